// The page's two DOM helpers: an element by id, and its text set.
export const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no element #${id}`);
  return el as T;
};

export const say = (id: string, text: string): void => {
  $(id).textContent = text;
};
