/** @module cli/commands/documents — `actorflow documents list|get|create|put|versions`: versioned documents, updated under `--if-match`. */
import type { DocumentStatus, DocumentView, DocumentVersionView } from '../../client/index.ts';
import { listCommand } from './builders.ts';
import { type Ctx, UsageError } from './common.ts';
import { details, show } from './output.ts';
import type { Flags, Group } from './spec.ts';

const STATUSES: readonly DocumentStatus[] = ['draft', 'final', 'archived'];

const STATUS_FLAG: Flags = { status: { type: 'string', arg: 'S', help: 'draft, final or archived' } };
const CONTENT_FLAG: Flags = { content: { type: 'string', arg: 'JSON|@file|@-', help: 'the content: JSON text, a JSON file, or stdin (text: a JSON string)' } };

function status(c: Ctx): DocumentStatus | undefined {
  const s = c.str('status');
  if (s !== undefined && !STATUSES.includes(s as DocumentStatus)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
  return s as DocumentStatus | undefined;
}

function required(c: Ctx, flag: string): string {
  const v = c.str(flag);
  if (v === undefined) throw new UsageError(`--${flag} is required`);
  return v;
}

/** A document or version as `key: value` lines, its content last as indented JSON. */
function showDocument(c: Ctx, d: DocumentView | DocumentVersionView): void {
  if (c.json) return show(c, d);
  const { content, ...head } = d;
  c.out(`${details(head)}\ncontent:\n${JSON.stringify(content, null, 2)}`);
}

export const DOCUMENTS: Group = {
  name: 'documents',
  summary: 'versioned documents of flows and people, by scope',
  default: 'list',
  commands: [
    listCommand({
      name: 'documents list',
      summary: 'documents, newest first (without content)',
      flags: {
        'scope-type': { type: 'string', arg: 'T', help: 'only this scope type (e.g. project)' },
        'scope-id': { type: 'string', arg: 'ID', help: 'only this scope id' },
        type: { type: 'string', arg: 'T', help: 'only documents of this type' },
        ...STATUS_FLAG,
        execution: { type: 'string', arg: 'ID', help: 'only documents this execution wrote a version of' },
      },
      columns: [['ID', 'id'], ['TYPE', 'type'], ['TITLE', 'title'], ['STATUS', 'status'], ['VERSION', 'version'], ['SCOPE TYPE', 'scopeType'], ['SCOPE ID', 'scopeId'], ['UPDATED', 'updatedAt']],
      list: (c, page) => {
        const [scopeType, scopeId, type, executionId, s] = [c.str('scope-type'), c.str('scope-id'), c.str('type'), c.str('execution'), status(c)];
        return c.client.documents.list({
          ...page,
          ...(scopeType === undefined ? {} : { scopeType }),
          ...(scopeId === undefined ? {} : { scopeId }),
          ...(type === undefined ? {} : { type }),
          ...(s === undefined ? {} : { status: s }),
          ...(executionId === undefined ? {} : { executionId }),
        });
      },
    }),
    {
      name: 'documents get',
      args: '<id>',
      summary: 'a document with its content: the latest version, or --version N',
      flags: { version: { type: 'string', arg: 'N', help: 'that version instead of the latest' } },
      async run(c) {
        const id = c.arg(0, 'id');
        const version = c.int('version', 1);
        showDocument(c, version === undefined ? await c.client.documents.get(id) : await c.client.documents.version(id, version));
        return 0;
      },
    },
    {
      name: 'documents create',
      summary: 'a new document (version 1)',
      flags: {
        'scope-type': { type: 'string', arg: 'T', help: 'what it belongs to, e.g. project (required)' },
        'scope-id': { type: 'string', arg: 'ID', help: 'which one, e.g. p-1 (required)' },
        type: { type: 'string', arg: 'T', help: 'what it is, e.g. spec (required)' },
        title: { type: 'string', arg: 'TEXT', help: 'its title (required)' },
        ...CONTENT_FLAG,
        ...STATUS_FLAG,
      },
      async run(c) {
        if (c.str('content') === undefined) throw new UsageError('--content is required');
        const s = status(c);
        const doc = await c.client.documents.create({
          scopeType: required(c, 'scope-type'),
          scopeId: required(c, 'scope-id'),
          type: required(c, 'type'),
          title: required(c, 'title'),
          content: c.jsonValue('content'),
          ...(s === undefined ? {} : { status: s }),
        });
        showDocument(c, doc);
        return 0;
      },
    },
    {
      name: 'documents put',
      args: '<id>',
      summary: 'write the next version (--title, --content, --status; the rest is kept) if --if-match is still the latest version (else exit 4)',
      flags: {
        'if-match': { type: 'string', arg: 'N', help: 'the version this change builds on (the `version` of documents get); required' },
        title: { type: 'string', arg: 'TEXT', help: 'new title' },
        ...CONTENT_FLAG,
        ...STATUS_FLAG,
      },
      async run(c) {
        const id = c.arg(0, 'id');
        const ifMatch = c.int('if-match', 1);
        if (ifMatch === undefined) throw new UsageError('--if-match N is required: the version this change builds on');
        const [title, s] = [c.str('title'), status(c)];
        const hasContent = c.str('content') !== undefined;
        if (title === undefined && s === undefined && !hasContent) throw new UsageError('documents put needs --title, --content or --status');
        const doc = await c.client.documents.update(id, ifMatch, {
          ...(title === undefined ? {} : { title }),
          ...(hasContent ? { content: c.jsonValue('content') } : {}),
          ...(s === undefined ? {} : { status: s }),
        });
        showDocument(c, doc);
        return 0;
      },
    },
    listCommand({
      name: 'documents versions',
      args: '<id>',
      summary: 'every version of a document, oldest first (without content)',
      columns: [['VERSION', 'version'], ['TITLE', 'title'], ['STATUS', 'status'], ['CREATED', 'createdAt'], ['EXECUTION', 'executionId'], ['STEP', 'stepId']],
      list: (c, page) => c.client.documents.versions(c.arg(0, 'id'), page),
    }),
  ],
};
