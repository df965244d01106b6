import { Testing } from 'cdktf';
import { removeCdktfOutdirsAfterAll } from './helpers/cdktf-outdirs';

// cdktf's matchers: toHaveResource, toHaveResourceWithProperties, toBeValidTerraform, ...
Testing.setupJest();

// Testing.app()'s cdktf.outdir.* temp folders are removed when each test file ends (test/helpers/cdktf-outdirs.ts).
removeCdktfOutdirsAfterAll();
