/**
 * Set up once for the e2e project: one Vite dev server that every dev-server file uses (Vite
 * transforms on request, so an unused server costs about a second), and a shared folder where
 * the first file that needs the production build makes it (helpers.ts `buildSession`). Both go
 * when the project's files are done.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from './helpers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared dev server's URL, ending in '/'. */
    e2eDevServerUrl: string;
    /** A folder for what the e2e files share (the production build). */
    e2eSharedDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = await mkdtemp(join(tmpdir(), 'activelab-e2e-'));
  const dev = await startDevServer();
  project.provide('e2eDevServerUrl', dev.url);
  project.provide('e2eSharedDir', shared);
  return async () => {
    await dev.close();
    await rm(shared, { recursive: true, force: true });
  };
}
