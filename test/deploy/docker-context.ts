import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, readRepoFile } from './recipes.js';

interface IgnoreRule {
  readonly exception: boolean;
  readonly regex: RegExp;
  readonly depth: number;
}

/** One .dockerignore line as Docker reads it: `*`, `?`, `**`, a leading `!` for an exception. */
function parseRule(line: string): IgnoreRule {
  const exception = line.startsWith('!');
  const pattern = (exception ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '');
  const source = pattern
    .split(/(\*\*|\*|\?)/)
    .map((part) => {
      if (part === '**') return '.*';
      if (part === '*') return '[^/]*';
      if (part === '?') return '[^/]';
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { exception, regex: new RegExp(`^${source}$`), depth: pattern.split('/').length };
}

/**
 * Whether Docker leaves a context path out: the last rule that matches the path, or its parent
 * directory with as many components as the rule has, decides (moby's patternmatcher).
 */
export function dockerIgnores(path: string, dockerignore: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map(parseRule);
  const parts = path.split('/');
  let ignored = false;
  for (const rule of rules) {
    const matches =
      rule.regex.test(path) ||
      (rule.depth < parts.length && rule.regex.test(parts.slice(0, rule.depth).join('/')));
    if (matches) ignored = !rule.exception;
  }
  return ignored;
}

/** The files `docker build .` sends: the checkout's files (tracked or new, not gitignored) less .dockerignore. */
export function dockerContextFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((p) => p !== '' && existsSync(join(ROOT, p)) && statSync(join(ROOT, p)).isFile());
  const dockerignore = readRepoFile('.dockerignore');
  return listed.filter((p) => !dockerIgnores(p, dockerignore));
}

/** Context files a COPY source names: the file itself, or every file under the directory. */
export function filesUnder(context: readonly string[], source: string): string[] {
  const clean = source.replace(/^\.\//, '').replace(/\/+$/, '');
  return context.filter((p) => p === clean || p.startsWith(`${clean}/`));
}
