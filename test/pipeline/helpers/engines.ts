/**
 * Runs the UDF bundle in two Node settings, each with a fixed clock, the way the Dataflow template calls it (the global
 * functions `process` and `processBatch`):
 * - Node: the script in this realm, scoped inside a function so its globals don't clobber Node's `process`;
 * - Node `vm`: a fresh context with the ES2015+ built-ins that Nashorn lacks deleted (plus Map/Set, which Rhino lacks).
 * Nashorn 15.4 itself, called as the template calls it, is in helpers/nashorn.ts.
 */
import * as vm from 'node:vm';

export interface UdfApi {
  process(input: string): string;
  processBatch(input: string): string | null;
}

/** What one call gave: the returned value, or the message of the thrown error. */
export type Outcome = { returned: string | null } | { thrown: string };

export function call(f: (s: string) => string | null, input: string): Outcome {
  try {
    return { returned: f(input) };
  } catch (e) {
    // The error comes from another realm (vm context, or Node's main realm under jest): no instanceof.
    const message = e !== null && typeof e === 'object' ? (e as { message?: unknown }).message : undefined;
    return { thrown: typeof message === 'string' ? message : String(e) };
  }
}

/** A Date whose `now()` and no-argument constructor give `now`; everything else is the real Date. */
function fixedDate(RealDate: DateConstructor, now: number): DateConstructor {
  const D = function (this: unknown, ...args: unknown[]): Date {
    return args.length === 0 ? new RealDate(now) : new (RealDate as unknown as new (...a: unknown[]) => Date)(...args);
  } as unknown as DateConstructor & { now: () => number };
  D.now = () => now;
  (D as unknown as { UTC: typeof Date.UTC }).UTC = RealDate.UTC;
  (D as unknown as { parse: typeof Date.parse }).parse = RealDate.parse;
  (D as unknown as { prototype: Date }).prototype = RealDate.prototype;
  return D;
}

/** The bundle in this realm (built-ins as Node has them). */
export function loadInNode(code: string, now: number): UdfApi {
  const factory = vm.runInThisContext(
    '(function (Date) {\n' + code + '\nreturn { process: process, processBatch: processBatch };\n})',
    { filename: 'enrich.js' },
  ) as (d: DateConstructor) => UdfApi;
  return factory(fixedDate(Date, now));
}

/**
 * Built-ins of ES2015 and later that Nashorn (JDK 17, es6 mode) or Rhino lack, plus the host APIs neither has: THE list
 * every Nashorn-like test context is stripped of ({@link strippedContext}); keep it the only one.
 */
export const MISSING_BUILT_INS: readonly string[] = [
  'Object.assign', 'Object.entries', 'Object.values', 'Object.is', 'Object.fromEntries', 'Object.getOwnPropertyDescriptors',
  'Object.getOwnPropertySymbols',
  'Array.from', 'Array.of', 'Array.prototype.find', 'Array.prototype.findIndex', 'Array.prototype.fill', 'Array.prototype.includes',
  'Array.prototype.flat', 'Array.prototype.flatMap', 'Array.prototype.findLast', 'Array.prototype.at',
  'String.prototype.includes', 'String.prototype.padStart', 'String.prototype.padEnd', 'String.prototype.trimStart',
  'String.prototype.trimEnd', 'String.prototype.startsWith', 'String.prototype.endsWith', 'String.prototype.repeat',
  'String.prototype.codePointAt', 'String.prototype.normalize', 'String.prototype.replaceAll', 'String.prototype.at', 'String.fromCodePoint',
  'Number.isInteger', 'Number.isFinite', 'Number.isNaN', 'Number.isSafeInteger',
  'Math.trunc', 'Math.sign', 'Math.imul', 'Math.log2', 'Math.log10', 'Math.hypot', 'Math.cbrt',
  'Promise', 'Reflect', 'Proxy', 'globalThis', 'console', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder',
  'atob', 'btoa', 'Symbol', 'Map', 'Set', 'WeakMap', 'WeakSet', 'queueMicrotask', 'structuredClone', 'setTimeout', 'setInterval',
];

/**
 * A fresh vm context with {@link MISSING_BUILT_INS} deleted, checked (a deletion that silently did nothing fails here
 * rather than letting code that needs the built-in pass).
 */
export function strippedContext(): vm.Context {
  const context = vm.createContext({});
  const paths = JSON.stringify(MISSING_BUILT_INS);
  vm.runInContext(
    `(function (paths) {
      for (var i = 0; i < paths.length; i++) {
        var parts = paths[i].split('.');
        var owner = this;
        for (var j = 0; j < parts.length - 1 && owner; j++) owner = owner[parts[j]];
        if (owner) delete owner[parts[parts.length - 1]];
      }
    }).call(this, ${paths});`,
    context,
  );
  const left = vm.runInContext(`(function (paths) { var out = []; for (var i = 0; i < paths.length; i++) { var parts = paths[i].split('.'); var v = this; for (var j = 0; j < parts.length && v !== undefined && v !== null; j++) v = v[parts[j]]; if (v !== undefined) out.push(paths[i]); } return out.join(','); }).call(this, ${paths})`, context) as string;
  if (left !== '') throw new Error('could not delete from the vm context: ' + left);
  return context;
}

/** The bundle in a fresh {@link strippedContext}. */
export function loadInStrippedVm(code: string, now: number): UdfApi & { context: vm.Context } {
  const context = strippedContext();
  const RealDate = vm.runInContext('Date', context) as DateConstructor;
  context.Date = fixedDate(RealDate, now);
  vm.runInContext(code, context, { filename: 'enrich.js' });
  return {
    context,
    process: vm.runInContext('process', context) as UdfApi['process'],
    processBatch: vm.runInContext('processBatch', context) as UdfApi['processBatch'],
  };
}

/**
 * Calls a global entry function of a vm-loaded bundle with a time bound: a call that runs longer than `timeoutMs`
 * (far above any real cost; only a hang reaches it) fails with an error naming the function and the input.
 */
export function callBounded(context: vm.Context, name: keyof UdfApi, input: string, timeoutMs: number): Outcome {
  context.__waymarkTestInput = input;
  try {
    return { returned: vm.runInContext(`${name}(__waymarkTestInput)`, context, { timeout: timeoutMs }) as string | null };
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new Error(`${name}() did not return within ${timeoutMs} ms (a hang) for an input of ${input.length} characters: ${JSON.stringify(input.slice(0, 120))}`);
    }
    const message = e !== null && typeof e === 'object' ? (e as { message?: unknown }).message : undefined;
    return { thrown: typeof message === 'string' ? message : String(e) };
  } finally {
    delete context.__waymarkTestInput;
  }
}
