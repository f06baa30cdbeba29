/**
 * The Content-Security-Policy and its Vite plugin (src/security/csp.ts): no inline script or eval
 * in either mode, the meta tag only in the app's index.html, and nothing in Vitest's own servers.
 * (The end-to-end tests check the policy in force in Chromium: tests/e2e/app.test.ts, build.test.ts.)
 */
import { join } from 'node:path';
import type { ConfigEnv, HtmlTagDescriptor, IndexHtmlTransformContext, Plugin, ResolvedConfig, UserConfig } from 'vite';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, cspDirectives, cspPlugin } from '../../src/security/csp.ts';
import { scriptPolicyProblems } from '../e2e/helpers.ts';

const call = <T>(hook: unknown, ...args: unknown[]): T => {
  const fn = typeof hook === 'function' ? hook : (hook as { handler: (...a: unknown[]) => T }).handler;
  return (fn as (...a: unknown[]) => T)(...args);
};

describe('the Content-Security-Policy', () => {
  it('allows no inline script and no eval, in dev and in the build, as meta or header', () => {
    for (const mode of ['dev', 'build'] as const) {
      for (const header of [false, true]) {
        const policy = contentSecurityPolicy(mode, { header });
        expect(scriptPolicyProblems(policy)).toEqual([]);
        expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
        expect(policy).not.toContain("'unsafe-eval'");
        expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval' blob:");
        expect(policy).toContain("object-src 'none'");
        // frame-ancestors only where it works: a header (a meta tag would log an error).
        expect(policy.includes('frame-ancestors')).toBe(header);
      }
    }
    // HMR's websocket only in dev.
    expect(Object.fromEntries(cspDirectives('dev'))['connect-src']).toEqual(["'self'", 'ws:', 'wss:']);
    expect(Object.fromEntries(cspDirectives('build'))['connect-src']).toEqual(["'self'"]);
  });

  it('is caught by the checker when it would allow inline script or eval', () => {
    expect(scriptPolicyProblems("default-src 'self'; script-src 'self' 'unsafe-inline'")).toEqual(["script-src allows 'unsafe-inline'", "script-src-elem allows 'unsafe-inline'", "script-src-attr allows 'unsafe-inline'", "worker-src allows 'unsafe-inline'"]);
    expect(scriptPolicyProblems("default-src 'self' 'unsafe-eval'")).toContain("script-src allows 'unsafe-eval'");
    expect(scriptPolicyProblems("img-src 'self'")).toEqual(['no script-src or default-src: scripts are unrestricted']);
    expect(scriptPolicyProblems("script-src 'self'; script-src-elem 'self' data:")).toEqual(['script-src-elem allows data:']);
  });
});

describe('cspPlugin', () => {
  const plugin: Plugin = cspPlugin();
  const env = (over: Partial<ConfigEnv>): ConfigEnv => ({ command: 'serve', mode: 'development', isPreview: false, isSsrBuild: false, ...over });

  it('stays out of Vitest\'s servers (mode test) and applies to dev, build and preview', () => {
    const apply = plugin.apply as (c: UserConfig, e: ConfigEnv) => boolean;
    expect(apply({}, env({ mode: 'test' }))).toBe(false);
    expect(apply({}, env({}))).toBe(true);
    expect(apply({}, env({ command: 'build', mode: 'production' }))).toBe(true);
    expect(apply({}, env({ mode: 'production', isPreview: true }))).toBe(true);
  });

  it('sends the header from the dev and preview servers, and puts the meta tag in index.html only', () => {
    const root = '/app';
    for (const [e, mode] of [[env({}), 'dev'], [env({ command: 'build', mode: 'production' }), 'build']] as const) {
      const config = call<UserConfig>(plugin.config, {}, e);
      expect(config.server?.headers?.['Content-Security-Policy']).toBe(contentSecurityPolicy('dev', { header: true }));
      expect(config.preview?.headers?.['Content-Security-Policy']).toBe(contentSecurityPolicy('build', { header: true }));
      call(plugin.configResolved, { root } as ResolvedConfig);
      const tags = call<HtmlTagDescriptor[] | undefined>(plugin.transformIndexHtml, '<html></html>', { filename: join(root, 'index.html'), path: '/index.html' } as IndexHtmlTransformContext);
      expect(tags).toEqual([{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy(mode) }, injectTo: 'head-prepend' }]);
      expect(call(plugin.transformIndexHtml, '<html></html>', { filename: '/elsewhere/tester.html', path: '/__vitest_test__/' } as IndexHtmlTransformContext)).toBeUndefined();
    }
  });
});
