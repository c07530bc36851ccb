import { readFile } from 'node:fs/promises';

/**
 * Peak resident set size of another process in MB: the kernel's high-water mark (VmHWM in
 * /proc/<pid>/status), so one sample at the end covers the whole run. Linux only: null elsewhere,
 * or when the process is gone.
 */
export async function peakRssMbOf(pid: number): Promise<number | null> {
  return statusFieldMb(pid, 'VmHWM');
}

async function statusFieldMb(pid: number, field: string): Promise<number | null> {
  if (process.platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return null;
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match ? Number(match[1]) / 1024 : null;
}
