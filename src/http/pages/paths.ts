/**
 * The paths the pages for people are served under (HTML, not the API): they stay out of the
 * OpenAPI document. Static assets are under /pages/assets/.
 */
export const PAGE_PATHS = ['/ebox', '/console', '/verify', '/signin', '/signout', '/pages', '/'] as const;

/** Whether an express route path is a page's: '/' exactly, the others as prefixes. */
export function isPagePath(routePath: string): boolean {
  return PAGE_PATHS.some((p) => (p === '/' ? routePath === '/' : routePath === p || routePath.startsWith(`${p}/`)));
}
