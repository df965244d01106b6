/**
 * The fixture corpus (test/pipeline/fixtures/corpus/*.json): one input message per file with the exact row or bad
 * row it must give. Inputs may hold `{"$b64": X}` (X as base64url JSON without padding, as trackers send `cx`/`ue_px`)
 * and `{"$json": X}` (X as JSON text, as in `co`/`ue_pr`); an expected bad row's `"payload": "$input"` stands for
 * the input message itself. All inputs are enriched at {@link CORPUS_NOW} with the default configuration and the
 * built-in registry plus examples/schemas (io.waymark.example/*), so the shipped bundle built with that registry must
 * give exactly the same output.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBase64UrlUtf8 } from '../../../pipeline/text';

export const CORPUS_DIR = join(__dirname, '..', 'fixtures', 'corpus');

/** The fixed clock of the corpus: 2024-05-01T12:05:00.000Z. */
export const CORPUS_NOW = Date.UTC(2024, 4, 1, 12, 5, 0);

export interface CorpusCase {
  readonly name: string;
  readonly description: string;
  /** The message text given to the enricher. */
  readonly message: string;
  readonly expected: { row?: Record<string, unknown>; badRow?: Record<string, unknown> };
}

/** Replaces `$b64`/`$json` placeholders by their encodings. */
export function materialise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(materialise);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$b64') return encodeBase64UrlUtf8(JSON.stringify(materialise(o.$b64)));
    if (keys.length === 1 && keys[0] === '$json') return JSON.stringify(materialise(o.$json));
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = materialise(o[k]);
    return out;
  }
  return value;
}

function substituteInput(value: unknown, input: unknown): unknown {
  if (value === '$input') return input;
  if (Array.isArray(value)) return value.map((v) => substituteInput(v, input));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = substituteInput(v, input);
    return out;
  }
  return value;
}

export function loadCorpus(): CorpusCase[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')) as { description: string; input: unknown; expected?: CorpusCase['expected'] };
      const input = materialise(raw.input);
      const message = typeof input === 'string' ? input : JSON.stringify(input);
      const expected = substituteInput(raw.expected ?? {}, input) as CorpusCase['expected'];
      return { name: file.replace(/\.json$/, ''), description: raw.description, message, expected };
    });
}
