/**
 * Where the pages for people live. They are not part of the API: the OpenAPI document does
 * not list them (test/integration/openapi.spec.ts skips the routes `isPagePath` names).
 */
export const PAGE_PATHS = ['/', '/ebox', '/console', '/verify', '/signin', '/signout', '/pages'] as const;

/** Whether an express route path belongs to the pages: '/' exactly, the others as prefixes (a whole path segment). */
export function isPagePath(routePath: string): boolean {
  return PAGE_PATHS.some((p) => (p === '/' ? routePath === '/' : routePath === p || routePath.startsWith(`${p}/`)));
}
