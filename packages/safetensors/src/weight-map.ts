import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from './file.js';
import { SafetensorsError } from './format.js';

/** Where a tensor is: its file, and its name in that file. */
export interface Located {
  file: string;
  key: string;
}

/** Which file holds each tensor: one model.safetensors, or shards listed in model.safetensors.index.json. */
export function weightMap(dir: string): Map<string, Located> {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    let parsed: { weight_map?: unknown };
    try {
      parsed = JSON.parse(readFileSync(index, 'utf8'));
    } catch (e) {
      throw new SafetensorsError(index, `invalid JSON (${(e as Error).message})`);
    }
    const map = parsed.weight_map;
    if (!map || typeof map !== 'object' || Array.isArray(map)) throw new SafetensorsError(index, "missing 'weight_map'");
    return new Map(
      Object.entries(map).map(([k, f]) => {
        if (typeof f !== 'string') throw new SafetensorsError(index, `weight_map['${k}'] is not a file name`);
        return [k, { file: join(dir, f), key: k }];
      }),
    );
  }
  if (!existsSync(single)) throw new SafetensorsError(single, 'not found (nor model.safetensors.index.json)');
  const f = SafetensorsFile.open(single);
  try {
    return new Map(f.keys().map((k) => [k, { file: single, key: k }]));
  } finally {
    f.close();
  }
}
