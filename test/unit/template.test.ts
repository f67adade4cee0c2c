import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideTemplate,
  evolveTemplate,
  initialTemplateState,
  templateVersion,
  TemplateExistsError,
  type TemplateCommand,
  type TemplateDefinition,
  type TemplateEvent,
} from '../../src/domain/template.ts';
import { TemplateRenderError } from '../../src/templates/render.ts';
import { prepareDefinition } from '../../src/templates/validate.ts';

const now = '2026-11-23T10:00:00.000Z';
const given = (events: TemplateEvent[]) => events.reduce(evolveTemplate, initialTemplateState());
const when = (events: TemplateEvent[], command: TemplateCommand) => decideTemplate(command, given(events), now);

const v1: TemplateDefinition = { defaultLocale: 'en', locales: { en: { sms: { body: 'Hi {{name}}' } } } };
const v2: TemplateDefinition = { defaultLocale: 'en', locales: { en: { sms: { body: 'Hello {{name}}' } }, ko: { sms: { body: '{{name}}님 안녕하세요' } } } };
const created: TemplateEvent = { type: 'TemplateCreated', data: { templateId: 'welcome', version: 1, ...v1, at: '2026-11-01T00:00:00.000Z' } };
const added: TemplateEvent = { type: 'TemplateVersionAdded', data: { templateId: 'welcome', version: 2, ...v2, at: '2026-11-02T00:00:00.000Z' } };

describe('template decider', () => {
  it('given nothing, when created, then TemplateCreated with version 1', () => {
    assert.deepEqual(when([], { type: 'CreateTemplate', data: { templateId: 'welcome', ...v1 } }), [{ type: 'TemplateCreated', data: { templateId: 'welcome', version: 1, ...v1, at: now } }]);
  });

  it('given a template, when created again, then TemplateExistsError', () => {
    assert.throws(() => when([created], { type: 'CreateTemplate', data: { templateId: 'welcome', ...v1 } }), TemplateExistsError);
  });

  it('given nothing, when a version is added (PUT), then the template is created as version 1', () => {
    assert.deepEqual(when([], { type: 'AddTemplateVersion', data: { templateId: 'welcome', ...v1 } }).map((e) => [e.type, e.data.version]), [['TemplateCreated', 1]]);
  });

  it('given version 1, when a different definition is put, then TemplateVersionAdded with version 2', () => {
    assert.deepEqual(when([created], { type: 'AddTemplateVersion', data: { templateId: 'welcome', ...v2 } }), [{ type: 'TemplateVersionAdded', data: { templateId: 'welcome', version: 2, ...v2, at: now } }]);
  });

  it('given version 2, when the same definition is put again (keys in another order), then nothing', () => {
    const reordered: TemplateDefinition = { locales: { ko: v2.locales.ko!, en: v2.locales.en! }, defaultLocale: 'en' };
    assert.deepEqual(when([created, added], { type: 'AddTemplateVersion', data: { templateId: 'welcome', ...reordered } }), []);
  });

  it('versions are immutable: adding version 2 leaves version 1 as it was', () => {
    const state = given([created, added]);
    assert.deepEqual(templateVersion(state, 1), { templateId: 'welcome', version: 1, ...v1, createdAt: '2026-11-01T00:00:00.000Z' });
    assert.equal(templateVersion(state)?.version, 2);
    assert.equal(templateVersion(state, 3), null);
    assert.equal(templateVersion(given([])), null);
  });
});

describe('template definitions are checked before they are stored', () => {
  const invalid = (definition: TemplateDefinition, field: RegExp) => {
    assert.throws(() => prepareDefinition(definition), (e: unknown) => e instanceof TemplateRenderError && e.code === 'template_invalid' && field.test(e.message));
  };

  it('makes locale tags canonical (ko-kr → ko-KR), the default too', () => {
    assert.deepEqual(prepareDefinition({ defaultLocale: 'EN', locales: { en: { sms: { body: 'x' } }, 'ko-kr': { sms: { body: 'y' } } } }), { defaultLocale: 'en', locales: { en: { sms: { body: 'x' } }, 'ko-KR': { sms: { body: 'y' } } } });
  });

  it('refuses a default locale that has no parts, and two keys for one locale', () => {
    invalid({ defaultLocale: 'de', locales: { en: { sms: { body: 'x' } } } }, /^defaultLocale/);
    invalid({ defaultLocale: 'en', locales: { en: { sms: { body: 'x' } }, EN: { sms: { body: 'y' } } } }, /^locales/);
  });

  it('names the part that does not compile', () => {
    invalid({ defaultLocale: 'en', locales: { en: { email: { subject: 'Hi {{name', text: 'ok' } } } }, /^locales\.en\.email\.subject: Parse error/);
    invalid({ defaultLocale: 'en', locales: { en: { push: { title: 't', body: '{{formatDate at}}' } } } }, /^locales\.en\.push\.body: .*formatDate/);
    invalid({ defaultLocale: 'en', locales: { en: { sms: { body: '{{> footer}}' } } } }, /^locales\.en\.sms\.body: partials are not supported/);
    invalid({ defaultLocale: 'en', locales: { en: { push: { title: 't', body: 'b', data: { url: '{{#items}}x{{/items}}' } } } } }, /^locales\.en\.push\.data\.url: .*section/);
  });
});
