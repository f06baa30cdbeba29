/** The app's link format (src/app/fields.ts): a configuration survives the round trip through a query string. */
import { describe, expect, it } from 'vitest';
import { FIELD_KEYS, linkQuery, parseLink } from '../../src/app/fields.ts';
import { DEFAULT_CONFIG, resolveConfig } from '../../src/engine/config.ts';

describe('link format', () => {
  it('writes every config field and reads the same configuration back', () => {
    const config = resolveConfig({
      dataset: 'moons', model: 'mlp', strategies: ['bald', 'margin', 'random'], initial: 8, balanced: false, rounds: 4,
      poolSubset: null, testSubset: 150, learningRate: 0.003, seed: 42, backend: 'wasm', warmStart: true, target: 0.85,
    });
    const query = linkQuery(config);
    expect(query).toContain('strategies=bald,margin,random');
    expect(query).toContain('poolSubset=all');
    const parsed = parseLink(query);
    expect(parsed.problems).toEqual([]);
    expect(Object.keys(parsed.config).sort()).toEqual([...FIELD_KEYS].sort());
    expect(resolveConfig(parsed.config as Parameters<typeof resolveConfig>[0])).toEqual(config);
    // Defaults with their nulls (learningRate, backend) too.
    expect(resolveConfig(parseLink(linkQuery(DEFAULT_CONFIG)).config as Parameters<typeof resolveConfig>[0])).toEqual(DEFAULT_CONFIG);
  });

  it("backend=auto, and the null words older links wrote, read as 'auto'; an explicit backend stays", () => {
    for (const q of ['?backend=auto', '?backend=', '?backend=null']) expect(parseLink(q).config).toEqual({ backend: 'auto' });
    expect(resolveConfig(parseLink('?backend=webgl').config as Parameters<typeof resolveConfig>[0]).backend).toBe('webgl');
  });

  it('parses values as data and reports what it cannot parse, for resolveConfig to judge the rest', () => {
    const parsed = parseLink('?dataset=%3Cimg%20src%3Dx%3E&initial=abc&rounds=-1&balanced=maybe&testSubset=&seed=1e3&color=red&thread=page');
    expect(parsed.config).toEqual({ dataset: '<img src=x>', rounds: -1, testSubset: null, seed: 1000 });
    expect(parsed.thread).toBe('page');
    expect(parsed.problems.map((p) => [p.field, p.message])).toEqual([
      ['initial', "link: Initial labeled set: 'abc' is not a number; ignored"],
      ['balanced', "link: Balanced initial set: 'maybe' is not true or false; ignored"],
      [null, "link: unknown setting 'color' ignored"],
    ]);
    expect(parseLink(`?model=${'x'.repeat(400)}`).problems[0]?.message).toMatch(/400 characters long; ignored/);
  });
});
