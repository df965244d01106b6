/**
 * The tp2 parameters of a collector payload as the enricher reads them: a POST event's `parameters`, or a GET's raw
 * `querystring` parsed by the enricher's own parser (collector_payload 1-0-1).
 */
import { queryParameters } from '../../pipeline/adapters';

export interface PayloadLike {
  readonly data: { readonly parameters?: Readonly<Record<string, string | undefined>>; readonly querystring?: string | null; readonly method?: string };
}

export function paramsOf(payload: PayloadLike | string): Record<string, string> {
  const p = typeof payload === 'string' ? (JSON.parse(payload) as PayloadLike) : payload;
  const d = p.data;
  if (d.parameters !== undefined) return d.parameters as Record<string, string>;
  if (typeof d.querystring !== 'string') throw new Error(`a collector payload without parameters or query string: ${JSON.stringify(p)}`);
  return queryParameters(d.querystring).params;
}
