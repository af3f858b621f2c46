/** @module common/template — templates (flow documents with parameters and inheritance) as the API shows them (docs/api/templates.md). */

/** A template version an execution was started from, or a definition made from. */
export interface TemplateRef {
  readonly name: string;
  readonly version: number;
}

/** What a definition registered by `POST /workflow-templates/{name}/instantiate` was made from: the template and the parameters it got (defaults applied). */
export interface TemplateInstance extends TemplateRef {
  readonly params: Readonly<Record<string, unknown>>;
}

/** A template in a list: its latest version. */
export interface TemplateSummary {
  name: string;
  version: number;
  description: string | null;
  /** The parent this version inherits from, pinned as `<name>@<version>`; null without `extends`. */
  extends: string | null;
  /** The JSON Schema of its parameters, merged along its `extends` chain. */
  parameters: Record<string, unknown>;
  createdAt: string;
}

/** One template version with its resolved document (inheritance applied, placeholders kept). */
export interface TemplateView extends TemplateSummary {
  document: Record<string, unknown>;
}
