import { OriginListError, SAME_ORIGIN, describeOriginPolicy, originAllowed, parseOriginPolicy } from './origin-policy';

describe('origin policy', () => {
  it("lets a page of the server's own origin in by default, and no other", () => {
    expect(originAllowed(SAME_ORIGIN, 'http://localhost:8090', 'localhost:8090', false)).toBe(true);
    expect(originAllowed(SAME_ORIGIN, 'http://[::1]:8090', '[::1]:8090', false)).toBe(true);
    expect(originAllowed(SAME_ORIGIN, 'https://localhost:8090', 'localhost:8090', true)).toBe(true);
    expect(originAllowed(SAME_ORIGIN, 'http://LOCALHOST:8090', 'localhost:8090', false)).toBe(true);
    expect(originAllowed(SAME_ORIGIN, 'http://evil.example', 'localhost:8090', false)).toBe(false);
    expect(originAllowed(SAME_ORIGIN, 'http://localhost:8091', 'localhost:8090', false)).toBe(false);
    // The same host, but a page served over http cannot reach the https server as its own.
    expect(originAllowed(SAME_ORIGIN, 'http://localhost:8090', 'localhost:8090', true)).toBe(false);
  });

  it('lets clients that send no Origin in (they are not browsers), and refuses null and garbage', () => {
    expect(originAllowed(SAME_ORIGIN, undefined, 'localhost:8090', false)).toBe(true);
    expect(originAllowed(SAME_ORIGIN, 'null', 'localhost:8090', false)).toBe(false);
    expect(originAllowed(SAME_ORIGIN, 'not a url', 'localhost:8090', false)).toBe(false);
    expect(originAllowed(SAME_ORIGIN, 'http://localhost:8090', undefined, false)).toBe(false);
  });

  it('parses a list of origins, allowed besides the own one', () => {
    const policy = parseOriginPolicy(' https://notes.example.org, http://localhost:3000/ ');
    expect(policy).toEqual({ kind: 'list', origins: new Set(['https://notes.example.org', 'http://localhost:3000']) });
    expect(originAllowed(policy, 'https://notes.example.org', 'collab:8090', true)).toBe(true);
    expect(originAllowed(policy, 'http://localhost:3000', 'collab:8090', true)).toBe(true);
    expect(originAllowed(policy, 'https://collab:8090', 'collab:8090', true)).toBe(true);
    expect(originAllowed(policy, 'https://other.example.org', 'collab:8090', true)).toBe(false);
    expect(describeOriginPolicy(policy)).toBe("this server's own pages and those from https://notes.example.org, http://localhost:3000");
  });

  it('takes * for any origin', () => {
    const policy = parseOriginPolicy('*');
    expect(originAllowed(policy, 'http://anything.example', 'localhost:8090', false)).toBe(true);
    expect(describeOriginPolicy(policy)).toBe('pages from any origin');
  });

  it('refuses what is not a list of origins, in a sentence', () => {
    expect(() => parseOriginPolicy('')).toThrow(OriginListError);
    expect(() => parseOriginPolicy('*,https://a.example')).toThrow(/list no others/);
    expect(() => parseOriginPolicy('example.org')).toThrow(/is not an (http or https )?origin/);
    expect(() => parseOriginPolicy('ftp://example.org')).toThrow(/not an http or https origin/);
    expect(() => parseOriginPolicy('https://example.org/path')).toThrow(/more than an origin/);
  });
});
