import { version } from '../package.json';

/** The collector's release, recorded in every payload and bad row. */
export const COLLECTOR_VERSION: string = version;

/** Artifact name used in bad rows' `processor` block. */
export const COLLECTOR_ARTIFACT = 'waymark-collector';

/** Value of the payload's `collector` field, e.g. `waymark-collector/0.1.0` (Snowplow's `v_collector`). */
export const COLLECTOR_ID = `${COLLECTOR_ARTIFACT}/${COLLECTOR_VERSION}`;
