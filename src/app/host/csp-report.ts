/**
 * Imported first by worker.ts, so it listens before tfjs and the engine load: a Content-Security-
 * Policy violation inside the engine worker (which has its own policy, from its script's response
 * header) is written to the worker's console as an error. Browsers log the page's own violations,
 * but a worker's only reach its `securitypolicyviolation` event.
 */
self.addEventListener('securitypolicyviolation', (e) => {
  const where = e.sourceFile ? ` at ${e.sourceFile}:${e.lineNumber}` : '';
  console.error(`Content-Security-Policy violation in the engine worker: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}${where}`);
});

export {};
