/** @module dashboard/diagram — renders Mermaid text to SVG; `mermaid` is imported on first use so the first page load stays small. */
import { h } from './dom.ts';

type Mermaid = (typeof import('mermaid'))['default'];

let loaded: Promise<Mermaid> | undefined;
let counter = 0;

function mermaid(): Promise<Mermaid> {
  loaded ??= import('mermaid').then(({ default: m }) => {
    // strict: labels are text, never HTML (step ids come from user documents).
    m.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral', fontFamily: 'system-ui, sans-serif' });
    return m;
  });
  return loaded;
}

/**
 * Draws `text` into `target`, replacing what was there. Renders of the same target are ordered:
 * only the latest text is shown even if an older render finishes later.
 */
export async function drawDiagram(target: HTMLElement, text: string): Promise<void> {
  const ticket = String(++counter);
  target.dataset['ticket'] = ticket;
  try {
    const m = await mermaid();
    const { svg } = await m.render(`mermaid-${ticket}`, text);
    if (target.dataset['ticket'] !== ticket) return;
    target.innerHTML = svg;
    target.dataset['rendered'] = 'true';
  } catch (err) {
    if (target.dataset['ticket'] !== ticket) return;
    target.replaceChildren(h('div', { class: 'error' }, `Cannot draw the diagram: ${err instanceof Error ? err.message : String(err)}`), h('pre', {}, text));
  }
}
