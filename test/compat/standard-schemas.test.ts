/**
 * The built-in schemas cover every schema Snowplow's trackers send by default or through their standard builders
 * and plugins, and each one gets its columns in the events table.
 *
 * The web and Node trackers' schema URIs are read from the installed packages themselves (every `iglu:` URI in the
 * dist of @snowplow/tracker-core, @snowplow/browser-tracker-core and the browser plugins the compatibility suite
 * runs), so a tracker upgrade that emits a new schema fails here. The mobile trackers (iOS/Android/React Native),
 * the web-vitals and enhanced-consent plugins are not installable here; their URIs are listed from Snowplow's
 * documentation (docs.snowplow.io "Tracking events" and "Tracking entities" of the mobile trackers, "Web vitals",
 * "Enhanced consent") and snowplow/iglu-central's schemas/ folder.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventsTableFields } from '../../lib/private/bigquery-schema';
import { selfDescribingColumnName } from '../../pipeline/columns';
import { loadRegistry } from '../../pipeline/registry/load';
import { compileValidators } from '../../pipeline/validation/compile';

const ROOT = join(__dirname, '..', '..');
const SNOWPLOW = join(ROOT, 'node_modules', '@snowplow');

/** Every `iglu:` URI in the JavaScript files of one installed package's dist (and its nested tracker-core). */
function urisIn(pkg: string): string[] {
  const out = new Set<string>();
  const scan = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) scan(full);
      else if (entry.name === 'index.module.js') {
        for (const m of readFileSync(full, 'utf8').matchAll(/iglu:([A-Za-z0-9._-]+\/[A-Za-z0-9_-]+\/jsonschema\/\d+-\d+-\d+)/g)) out.add('iglu:' + m[1]);
      }
    }
  };
  scan(join(SNOWPLOW, pkg, 'dist'));
  scan(join(SNOWPLOW, pkg, 'node_modules', '@snowplow', 'tracker-core', 'dist'));
  return [...out].sort();
}

const PACKAGES = readdirSync(SNOWPLOW).filter((p) => p === 'tracker-core' || p === 'browser-tracker-core' || p.startsWith('browser-plugin-'));

/** From Snowplow's docs of the mobile trackers and of the web plugins not installed here (see the header). */
const DOCUMENTED = [
  'iglu:com.snowplowanalytics.mobile/application/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/application_install/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/application_lifecycle/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/deep_link/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/deep_link_received/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/list_item_view/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/message_notification/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/screen/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/screen_end/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.mobile/scroll_changed/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.snowplow/application_background/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.snowplow/application_error/jsonschema/1-0-2',
  'iglu:com.snowplowanalytics.snowplow/application_foreground/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2',
  'iglu:com.snowplowanalytics.snowplow/gdpr/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0',
  'iglu:com.snowplowanalytics.snowplow/mobile_context/jsonschema/1-0-3',
  'iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.snowplow/web_vitals/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.snowplow/consent_preferences/jsonschema/1-0-0',
  'iglu:com.snowplowanalytics.snowplow/cmp_visible/jsonschema/1-0-0',
];

/** The tp2 envelopes: never event or entity columns. */
const PROTOCOL = ['payload_data', 'contexts', 'unstruct_event'];

const registry = loadRegistry([]);

describe('the standard schemas of Snowplow\'s trackers are built in', () => {
  it('scans the tracker packages the compatibility suite installs', () => {
    expect(PACKAGES).toEqual(expect.arrayContaining(['tracker-core', 'browser-tracker-core', 'browser-plugin-snowplow-ecommerce', 'browser-plugin-site-tracking']));
    // The Node tracker 4.8's standard builders (buildScreenView, buildSiteSearch, buildAddToCart, buildFormSubmission, ...).
    expect(urisIn('tracker-core')).toEqual(expect.arrayContaining([
      'iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0',
      'iglu:com.snowplowanalytics.snowplow/submit_form/jsonschema/1-0-0',
    ]));
  });

  it.each(PACKAGES)('every schema @snowplow/%s emits is in the registry', (pkg) => {
    const missing = urisIn(pkg).filter((uri) => registry.get(uri) === undefined);
    expect(missing).toEqual([]);
  });

  it('every schema the mobile trackers and documented web plugins send is in the registry', () => {
    expect(DOCUMENTED.filter((uri) => registry.get(uri) === undefined)).toEqual([]);
  });

  it('every built-in schema compiles to a validator and gets its events-table columns, with no problem', () => {
    const validators = compileValidators(registry.schemas);
    const { fields, problems } = eventsTableFields(registry);
    expect(problems).toEqual([]);
    const names = new Set(fields.map((f) => f.name));
    const all = new Set([...PACKAGES.flatMap(urisIn), ...DOCUMENTED]);
    let checked = 0;
    for (const uri of all) {
      const schema = registry.get(uri)!;
      expect(typeof validators[uri]).toBe('function');
      if (PROTOCOL.indexOf(schema.name) >= 0 && schema.vendor === 'com.snowplowanalytics.snowplow') continue;
      const version = `${schema.version.model}-${schema.version.revision}-${schema.version.addition}`;
      for (const kind of ['unstruct_event', 'contexts'] as const) {
        const column = selfDescribingColumnName(kind, schema.vendor, schema.name, version);
        expect({ uri, column, present: names.has(column) }).toEqual({ uri, column, present: true });
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(50);
  });
});
