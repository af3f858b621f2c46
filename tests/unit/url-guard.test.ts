/** The webhook SSRF guard: every address but public unicast is refused, IPv4 embedded in IPv6 included (no DNS: literal addresses only). */
import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, forbiddenRange } from '../../src/webhooks/url-guard.ts';

/** Address → the refusal (a substring of the reason), or null when it is public. */
const TABLE: readonly (readonly [string, string | null])[] = [
  // IPv4
  ['8.8.8.8', null],
  ['1.1.1.1', null],
  ['127.0.0.1', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['0.0.0.0', 'unspecified'],
  ['224.0.0.1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['192.0.2.1', 'reserved'],
  ['192.88.99.1', 'reserved'],
  ['240.0.0.1', 'reserved'],
  // plain IPv6
  ['2606:4700:4700::1111', null],
  ['2a00:1450:4001:81b::200e', null],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'linkLocal'],
  ['fd12:3456::1', 'uniqueLocal'],
  ['fec0::1', 'deprecatedSiteLocal'],
  ['ff02::1', 'multicast'],
  ['2001:db8::1', 'reserved'],
  ['100::1', 'discard'],
  ['2001:2::1', 'benchmarking'],
  // IPv4-compatible ::/96 (deprecated): refused whatever it embeds, in either notation
  ['::7f00:1', 'ipv4Compatible'],
  ['::127.0.0.1', 'ipv4Compatible'],
  ['::a00:1', 'ipv4Compatible'],
  ['::808:808', 'ipv4Compatible'],
  ['::8.8.8.8', 'ipv4Compatible'],
  ['0:0:0:0:0:0:7f00:1', 'ipv4Compatible'],
  // IPv4-mapped ::ffff:0:0/96: the IPv4 check
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:a9fe:a9fe', 'linkLocal'],
  ['::ffff:8.8.8.8', null],
  // IPv4-translated ::ffff:0:0:0/96 (SIIT, never global): refused
  ['::ffff:0:7f00:1', 'rfc6145'],
  ['::ffff:0:808:808', 'rfc6145'],
  ['::ffff:0:8.8.8.8', 'rfc6145'],
  // NAT64 well-known prefix 64:ff9b::/96: the embedded IPv4 check (DNS64 answers these for public hosts)
  ['64:ff9b::808:808', null],
  ['64:ff9b::8.8.8.8', null],
  ['64:ff9b::7f00:1', 'nat64 of 127.0.0.1, loopback'],
  ['64:ff9b::10.0.0.1', 'nat64 of 10.0.0.1, private'],
  ['64:ff9b::a9fe:a9fe', 'nat64 of 169.254.169.254, linkLocal'],
  // NAT64 local-use 64:ff9b:1::/48 (IPv4 position set by the operator): refused
  ['64:ff9b:1::808:808', 'nat64LocalUse'],
  ['64:ff9b:1:7f00:1::', 'nat64LocalUse'],
  // 6to4 2002::/16: the IPv4 in bits 16-48
  ['2002:808:808::1', null],
  ['2002:7f00:1::1', '6to4 of 127.0.0.1, loopback'],
  ['2002:c0a8:101::1', '6to4 of 192.168.1.1, private'],
  ['2002:a9fe:a9fe:1:2:3:4:5', '6to4 of 169.254.169.254, linkLocal'],
  ['2002::1', '6to4 of 0.0.0.0, unspecified'],
  // Teredo 2001::/32: server IPv4 in bits 32-63, client IPv4 in the last 32 bits XOR 0xffffffff
  ['2001:0:808:808:0:0:f7f7:f7f7', null], // server 8.8.8.8, client 8.8.8.8
  ['2001:0:808:808:8000:63bf:80ff:fffe', 'teredo of 127.0.0.1, loopback'], // client 127.0.0.1
  ['2001:0:808:808:0:0:f5ff:fffe', 'teredo of 10.0.0.1, private'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo of 192.0.2.45, reserved'], // RFC 4380's example
  ['2001:0:7f00:1:0:0:f7f7:f7f7', 'teredo of 127.0.0.1, loopback'], // server 127.0.0.1
  // not addresses
  ['localhost', 'not an IP address'],
  ['', 'not an IP address'],
];

describe('forbiddenRange', () => {
  it.each(TABLE)('%s → %s', (address, refusal) => {
    const got = forbiddenRange(address);
    if (refusal === null) expect(got).toBeUndefined();
    else expect(got).toBe(refusal);
  });
});

describe('checkWebhookUrl', () => {
  it('refuses URLs whose literal host embeds a refused IPv4 address', async () => {
    for (const url of ['http://[::127.0.0.1]/', 'http://[::7f00:1]:8080/x', 'https://[::ffff:0:127.0.0.1]/', 'http://[64:ff9b::127.0.0.1]/', 'http://[2002:7f00:1::]/', 'http://[2001:0:808:808::80ff:fffe]/']) {
      const verdict = await checkWebhookUrl(url, { allowPrivate: false });
      expect(verdict.ok, url).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toMatch(/not a public address/);
    }
  });

  it('accepts public literals, and private ones with allowPrivate', async () => {
    for (const url of ['http://8.8.8.8/', 'http://[2606:4700:4700::1111]/', 'http://[64:ff9b::8.8.8.8]/', 'http://[2002:808:808::1]/']) {
      expect((await checkWebhookUrl(url, { allowPrivate: false })).ok, url).toBe(true);
    }
    expect((await checkWebhookUrl('http://[::127.0.0.1]/', { allowPrivate: true })).ok).toBe(true);
  });
});
