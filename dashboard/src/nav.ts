/** @module dashboard/nav — the top bar's page links: the Menu button that folds them at phone width, and the skip link. */

/** Wires the Menu toggle (phone width: the links fold behind it) and the "Skip to content" link to `main`. */
export function wireNav(main: HTMLElement): void {
  const nav = document.getElementById('nav') as HTMLElement;
  const toggle = document.getElementById('nav-toggle') as HTMLButtonElement;
  const setOpen = (open: boolean): void => {
    nav.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => setOpen(!nav.classList.contains('open')));
  // A chosen page closes the menu; Escape closes it and gives the focus back to the button.
  nav.addEventListener('click', (ev) => {
    if ((ev.target as Element).closest('a') !== null) setOpen(false);
  });
  nav.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || !nav.classList.contains('open')) return;
    setOpen(false);
    toggle.focus();
  });
  // The hash is the router's: the skip link moves the focus instead of following its href.
  document.querySelector('.skip')?.addEventListener('click', (ev) => {
    ev.preventDefault();
    main.focus();
  });
}
