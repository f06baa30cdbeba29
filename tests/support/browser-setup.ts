// Runs before every browser test file.
import { configureWasmPaths } from '../../src/backend/wasm-paths.browser.ts';

configureWasmPaths();
