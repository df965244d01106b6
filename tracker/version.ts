/** The tracker's version, sent in `tv` as `js-waymark-<VERSION>`; kept equal to package.json by a test. */
export const VERSION = '0.1.0';
