import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SETTING_NAMES, unknownSettings } from '../../src/settingNames.ts';
import { loadConfig } from '../../src/config.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sources = (readdirSync(join(root, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('settingNames.ts')).map((f) => readFileSync(join(root, 'src', f), 'utf8'));
// Prefixes the provider configs test for ("partly configured") and a code identifier, not settings.
const NOT_SETTINGS = new Set(['HERALD_RATE_LIMIT', 'HERALD_USER_RATE_LIMIT', 'HERALD_EVENT_TYPES']);
const inSource = new Set(sources.flatMap((text) => text.match(/HERALD_[A-Z0-9_]+/g) ?? []).filter((name) => !NOT_SETTINGS.has(name) && !name.endsWith('_')));

describe('the HERALD_* settings start-up knows', () => {
  it('are exactly the ones the source reads, each documented', () => {
    assert.deepEqual([...inSource].filter((name) => !SETTING_NAMES.includes(name)).sort(), [], 'read by the source but not listed');
    assert.deepEqual(SETTING_NAMES.filter((name) => !inSource.has(name)), [], 'listed but read nowhere');
    const docs = [readFileSync(join(root, 'README.md'), 'utf8'), ...(readdirSync(join(root, 'docs'), { recursive: true }) as string[]).filter((f) => f.endsWith('.md')).map((f) => readFileSync(join(root, 'docs', f), 'utf8'))].join('\n');
    const documented = (name: string) => docs.includes(name) || docs.includes(`_${name.split('_').at(-1)}\``);
    assert.deepEqual(SETTING_NAMES.filter((name) => !documented(name)), [], 'not in the README or docs/');
  });

  it('warns about a HERALD_* variable Herald does not read, naming its family, and about nothing else', () => {
    assert.deepEqual(unknownSettings({ HERALD_FCM_SERVICE_ACCOUNT: '/x.json', HERALD_PORT: '3000', PATH: '/bin' }), [
      'HERALD_FCM_SERVICE_ACCOUNT is not a Herald setting and is ignored; did you mean one of HERALD_FCM_CREDENTIALS, HERALD_FCM_MAX_SOCKETS, HERALD_FCM_TIMEOUT_MS, HERALD_FCM_TRANSPORT?',
    ]);
    assert.deepEqual(unknownSettings({ HERALD_USER_RATE_LIMIT_MAXIMUM: '3' }), [
      'HERALD_USER_RATE_LIMIT_MAXIMUM is not a Herald setting and is ignored; did you mean one of HERALD_USER_RATE_LIMIT_MAX, HERALD_USER_RATE_LIMIT_OVER, HERALD_USER_RATE_LIMIT_WINDOW, HERALD_USER_RATE_LIMIT_WINDOW_SECONDS?',
    ]);
    assert.deepEqual(unknownSettings({ HERALD_COLOUR: 'blue' }), ['HERALD_COLOUR is not a Herald setting and is ignored (README, Configuration, lists them)']);
    assert.deepEqual(loadConfig({ HERALD_SENDGRID_KEY: 'SG.x' }).warnings, ['HERALD_SENDGRID_KEY is not a Herald setting and is ignored; did you mean one of HERALD_SENDGRID_API_KEY, HERALD_SENDGRID_BASE_URL, HERALD_SENDGRID_FROM, HERALD_SENDGRID_REPLY_TO, HERALD_SENDGRID_TIMEOUT_MS, HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY?']);
    assert.deepEqual(unknownSettings(Object.fromEntries(SETTING_NAMES.map((name) => [name, 'x']))), []);
  });
});
