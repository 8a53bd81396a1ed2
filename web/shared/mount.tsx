import { render, type ComponentChild } from 'preact';

/** Renders an app into `#app`, handing it the data attributes the box wrote into the page. */
export function mount(app: (data: DOMStringMap) => ComponentChild): void {
  const root = document.getElementById('app');
  if (!root) throw new Error('the page has no #app element');
  render(app(root.dataset), root);
}
