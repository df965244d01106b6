import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const LIB = join(__dirname, '..', '..', 'lib');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('private modules import nothing from the public lib files (no import circle through lib/collector-backend.ts and the backends)', () => {
  const offending: string[] = [];
  for (const file of files(join(LIB, 'private'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = resolve(dirname(file), m[1]);
      if (dirname(target) === LIB) offending.push(`${relative(LIB, file)} imports ${relative(LIB, target)}`);
    }
  }
  expect(offending).toEqual([]);
});
