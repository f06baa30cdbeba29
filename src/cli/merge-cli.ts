/** `npm run merge -- a.json b.json ... --out all.json`: see `merge.ts`. */
import { mergeMain } from './merge.ts';

mergeMain(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Not a user error (those are reported without a stack): a bug, with its stack.
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
