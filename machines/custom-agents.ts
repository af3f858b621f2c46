/**
 * In-process agents: your own TypeScript as steps, run inside the server, no NATS needed
 * (docs/agents.md, "In-process agents"). `agents` maps a kind to a handler, or to `{ handler, concurrency?,
 * inputSchema?, outputSchema?, description? }`; the flow below uses both kinds.
 */
import type { FlowDocument } from '../src/common/flow.ts';

/** The part of the handler's context these two use (the full one is `TaskContext` of `actorflow/agent`). */
interface Ctx {
  readonly input: unknown;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, data?: unknown): void;
}

const text = (input: unknown): string => {
  const t = (input as { text?: unknown } | null)?.text;
  return typeof t === 'string' ? t : '';
};

export const agents = {
  slugify: async (ctx: Ctx) => ({
    slug: text(ctx.input)
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, ''),
  }),
  wordcount: {
    description: 'Counts the words of `text`.',
    concurrency: 4,
    inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    outputSchema: { type: 'object', required: ['words'], properties: { words: { type: 'integer' } } },
    handler: async (ctx: Ctx) => {
      const words = text(ctx.input).split(/\s+/).filter(Boolean).length;
      ctx.log('info', 'counted', { words });
      return { words };
    },
  },
};

export const definitions: FlowDocument[] = [
  {
    name: 'publish-post',
    inputSchema: { type: 'object', required: ['title', 'body'], properties: { title: { type: 'string' }, body: { type: 'string' } } },
    steps: [
      { id: 'slug', type: 'task', agent: 'slugify', input: { text: '$.input.title' } },
      { id: 'count', type: 'task', agent: 'wordcount', input: { text: '$.input.body' } },
    ],
    output: { slug: '$.steps.slug.output.slug', words: '$.steps.count.output.words' },
  },
];
