/** @module graphql/sdl — the read-only GraphQL schema as SDL: the same shapes as the REST answers. */

/**
 * The schema text. Field names and values mirror the REST views; `status`, `type` and
 * `level` are the REST strings. Lists under an execution take `limit` (1–1000, default 50) and
 * `cursor` like the REST lists and answer `{ items, nextCursor }`.
 */
export const GRAPHQL_SDL = /* GraphQL */ `
"""Any JSON value (inputs, outputs, event data, labels, flow documents)."""
scalar JSON

"""Read-only queries; every one is scoped to the tenant of the credential."""
type Query {
  """One execution; null with an \`execution_not_found\` error when unknown or another tenant's."""
  execution(id: ID!): Execution
  """Executions, newest first. \`status\` takes REST status strings (one or a list)."""
  executions(
    status: [String!]
    workflow: String
    """Label filter: every given \`{ key: value }\` pair must match (REST \`label.<k>=<v>\`)."""
    labels: JSON
    parentId: ID
    """RFC 3339, inclusive."""
    createdAfter: String
    """RFC 3339, exclusive."""
    createdBefore: String
    limit: Int = 50
    cursor: String
  ): ExecutionPage
  """A definition: the latest version, or \`version\`."""
  definition(name: String!, version: Int): Definition
  """Agents seen on the bus (in-process ones included), by id."""
  agents: [Agent!]!
}

type ExecutionPage {
  items: [Execution!]!
  nextCursor: String
}

type Execution {
  id: ID!
  workflow: String!
  version: Int!
  """pending | queued | running | waiting | paused | completed | failed | cancelled | timed_out"""
  status: String!
  input: JSON
  output: JSON
  error: ExecutionError
  currentSteps: [String!]!
  parentId: ID
  tenant: String!
  labels: JSON!
  createdAt: String!
  startedAt: String
  updatedAt: String!
  finishedAt: String
  retryAttempt: Int!
  lastSeq: Int!
  """−10..10: its order in its workflow's concurrency queue while queued (higher first)."""
  priority: Int!
  """The parent execution (child executions of \`workflow\` steps)."""
  parent: Execution
  """The definition version this execution runs on (null for a one-off flow)."""
  definition: Definition
  """Steps that have started, in start order."""
  steps(limit: Int = 50, cursor: String): StepPage
  """Events in seq order after \`since\` (exclusive)."""
  events(since: Int = 0, limit: Int = 50, cursor: String): EventPage
  """Step logs at \`level\` and above."""
  logs(level: String, stepId: String, limit: Int = 50, cursor: String): LogPage
  children(limit: Int = 50, cursor: String): ChildPage
  costs: Costs
}

type ExecutionError {
  code: String!
  message: String!
  stepId: String
  compensated: Boolean!
}

type StepPage {
  items: [Step!]!
  nextCursor: String
}

type Step {
  stepId: String!
  type: String!
  """pending | running | waiting | completed | failed | skipped | cancelled"""
  status: String!
  """How many attempts ran (REST \`attempts\`)."""
  attempts: Int!
  startedAt: String
  finishedAt: String
  output: JSON
  error: JSON
  agentId: String
  waitingFor: String
  """The attempts themselves (REST \`/steps/{stepId}/attempts\`)."""
  attemptHistory(limit: Int = 50, cursor: String): AttemptPage
}

type AttemptPage {
  items: [Attempt!]!
  nextCursor: String
}

type Attempt {
  attempt: Int!
  status: String!
  startedAt: String!
  finishedAt: String
  durationMs: Float
  agentId: String
  output: JSON
  error: JSON
}

type EventPage {
  items: [Event!]!
  nextCursor: String
}

type Event {
  seq: Int!
  id: String!
  executionId: ID!
  workflow: String!
  tenant: String!
  type: String!
  timestamp: String!
  stepId: String
  data: JSON!
}

type LogPage {
  items: [Log!]!
  nextCursor: String
}

type Log {
  timestamp: String!
  level: String!
  message: String!
  stepId: String
  attempt: Int
  data: JSON
}

type ChildPage {
  items: [Child!]!
  nextCursor: String
}

type Child {
  id: ID!
  workflow: String!
  status: String!
  createdAt: String!
  """The whole child execution."""
  execution: Execution
}

type Costs {
  total: CostTotal!
  steps: [StepCost!]!
}

type CostTotal {
  tokens: Float!
  usd: Float!
}

type StepCost {
  stepId: String!
  attempt: Int!
  model: String
  tokens: Float!
  usd: Float!
}

type Definition {
  name: String!
  version: Int!
  """document | code"""
  source: String!
  retired: Boolean!
  createdAt: String!
  document: JSON
}

type Agent {
  id: ID!
  name: String!
  kinds: [String!]!
  """online | busy | offline"""
  status: String!
  capacity: Int!
  inFlight: Int!
  lastHeartbeatAt: String
  version: String
  stats: AgentStats!
}

type AgentStats {
  completed: Int!
  failed: Int!
  failureRate: Float!
  p50Ms: Float
}
`;
