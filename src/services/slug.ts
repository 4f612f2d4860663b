import { randomBytes } from 'node:crypto';

/** A URL-safe slug from a display name: "Acme Inc." -> "acme-inc". */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return slug.length >= 2 ? slug : `org-${slug}`.replace(/-+$/, '');
}

/** The slug with a short random suffix, for when a generated slug is taken. */
export function withSuffix(slug: string): string {
  return `${slug.slice(0, 40)}-${randomBytes(3).toString('hex')}`;
}
