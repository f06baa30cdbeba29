/**
 * `npm run experiment -- [flags]`: the active-learning loop headless in Node on wasm.
 * Writes <out>.json, <out>.csv and <out>.svg and prints a summary table. See `--help`, and
 * `main.ts` for the run itself (this file only connects it to the process).
 */
import { main } from './main.ts';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Not a user error (those are reported by main without a stack): a bug, with its stack.
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
