import { open } from 'node:fs/promises';
import { contentReasons, DATA_LABEL } from '../../disk/assess';
import { handleSource } from '../../disk/device';
import { readSnapshot } from '../../disk/signatures';
import { list, psQuote } from '../../powershell-text';
import { failed, ok, skipped, type GuestAction } from '../action';
import type { GuestContext } from '../context';
import { failureText, queryPowerShell, runOwnScript } from './powershell';

/** One disk as Get-Disk reports it. */
export interface WindowsDisk {
  number: number;
  partitionStyle: string;
  partitions: number;
  boot: boolean;
  system: boolean;
  offline: boolean;
  readOnly: boolean;
  size: number;
  busType: string;
  uniqueId: string;
  name: string;
}

/** Disks that are no VM data disk: removable media, mounted disk images, Storage Spaces' virtual disks. */
const NOT_DATA_BUSES = new Set(['USB', 'SD', 'MMC', 'File Backed Virtual', 'Storage Spaces']);

/** Letters from D: on; C: is the system's, A: and B: are floppy letters. */
const LETTERS = 'DEFGHIJKLMNOPQRSTUVWXYZ';

export const DISK_QUERY = `$letters = @([System.IO.DriveInfo]::GetDrives() | ForEach-Object { $_.Name.Substring(0, 1).ToUpperInvariant() })
$letters += @(Get-Partition -ErrorAction SilentlyContinue | Where-Object { [int][char]$_.DriveLetter -ne 0 } | ForEach-Object { ([string]$_.DriveLetter).ToUpperInvariant() })
$disks = @(Get-Disk | ForEach-Object {
  [pscustomobject]@{
    number = [int]$_.Number
    partitionStyle = [string]$_.PartitionStyle
    partitions = [int]$_.NumberOfPartitions
    boot = [bool]$_.IsBoot
    system = [bool]$_.IsSystem
    offline = [bool]$_.IsOffline
    readOnly = [bool]$_.IsReadOnly
    size = [double]$_.Size
    busType = [string]$_.BusType
    uniqueId = [string]$_.UniqueId
    name = [string]$_.FriendlyName
  }
})
Write-SdcJson ([pscustomobject]@{ disks = $disks; letters = @($letters) })
`;

/** The drive letter rule: the first letter from D: that no volume, partition or drive (a CD-ROM too) holds. */
export function firstFreeLetter(used: Iterable<string>): string | null {
  const taken = new Set([...used].map((l) => l.toUpperCase()));
  return [...LETTERS].find((l) => !taken.has(l)) ?? null;
}

/** The data disk: the first disk by number that is not the boot or system disk and not removable; the others are not managed. */
export function dataDiskOf(disks: WindowsDisk[]): { disk: WindowsDisk | null; others: WindowsDisk[] } {
  const candidates = disks.filter((d) => !d.boot && !d.system && !NOT_DATA_BUSES.has(d.busType)).sort((a, b) => a.number - b.number);
  return { disk: candidates[0] ?? null, others: candidates.slice(1) };
}

/** The guest path of a disk's raw device. */
const physicalDrive = (n: number) => `\\\\.\\PhysicalDrive${n}`;

/**
 * Why the disk must be left alone; empty when it is blank. Windows must call it RAW with no
 * partitions, and our own reader must find no signature and only zeros where tables and file
 * systems start and end (the same reader as on Linux).
 */
async function reasonsToLeave(ctx: GuestContext, disk: WindowsDisk): Promise<string[]> {
  const reasons: string[] = [];
  if (disk.partitionStyle !== 'RAW') reasons.push(`Windows sees a ${disk.partitionStyle} partition table`);
  if (disk.partitions > 0) reasons.push(`Windows sees ${disk.partitions} partition(s)`);
  if (reasons.length > 0) return reasons;
  const path = physicalDrive(disk.number);
  let handle;
  try {
    handle = await open(ctx.files.hostPath(path), 'r');
  } catch (err) {
    return [`${path} cannot be read to check it: ${(err as Error).message}`];
  }
  try {
    reasons.push(...contentReasons(await readSnapshot(handleSource(handle, disk.size))));
  } catch (err) {
    reasons.push(`${path} could not be read to the end: ${(err as Error).message}`);
  } finally {
    await handle.close();
  }
  return reasons;
}

/** The script that formats a disk found blank. It checks again that the disk is unchanged and the letter free before it writes anything. */
export function formatScript(disk: WindowsDisk, letter: string): string {
  const n = disk.number;
  const lines = [
    `# Written by sdc-guest format-secondary-disk: disk ${n} (${disk.name.replace(/[\r\n]/g, ' ')}) was RAW, without partitions, and read as zeros.`,
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    `$disk = Get-Disk -Number ${n}`,
    `if ([string]$disk.PartitionStyle -ne 'RAW' -or $disk.NumberOfPartitions -ne 0 -or [string]$disk.UniqueId -ne ${psQuote(disk.uniqueId)}) { throw 'disk ${n} changed since it was checked; left alone' }`,
    `if ([System.IO.DriveInfo]::GetDrives() | Where-Object { $_.Name -like '${letter}:*' }) { throw '${letter}: was taken since it was checked; disk ${n} left alone' }`,
  ];
  if (disk.offline) lines.push(`Set-Disk -Number ${n} -IsOffline $false`);
  if (disk.readOnly) lines.push(`Set-Disk -Number ${n} -IsReadOnly $false`);
  lines.push(
    `Initialize-Disk -Number ${n} -PartitionStyle GPT`,
    `$partition = New-Partition -DiskNumber ${n} -UseMaximumSize -DriveLetter ${letter}`,
    `Format-Volume -Partition $partition -FileSystem NTFS -NewFileSystemLabel ${psQuote(DATA_LABEL)} -Confirm:$false | Out-Null`,
    `Write-Output 'disk ${n}: GPT, one NTFS volume ${DATA_LABEL} as ${letter}:'`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * The data disk on Windows: only a disk that Windows calls RAW, with no partitions, and that our
 * reader finds blank gets a GPT, one NTFS volume and the first free letter from D:. A disk with
 * anything on it is left alone and logged. Safe on every boot.
 */
export const formatSecondaryDiskWindows: GuestAction = {
  name: 'format-secondary-disk',
  summary: 'Give a blank data disk (RAW, no partitions, all zeros) a GPT, one NTFS volume and the first free letter from D:; leave any disk that holds anything alone.',
  keys: [],
  once: false,
  async run(ctx) {
    const found = (await queryPowerShell(ctx, 'disks', DISK_QUERY)) as { disks?: WindowsDisk | WindowsDisk[]; letters?: string | string[] } | null;
    if (found === null) return skipped('not run: the root is not the running system');
    const { disk, others } = dataDiskOf(list(found.disks));
    if (others.length > 0) ctx.log.info(`not managed: ${others.map((d) => `disk ${d.number}`).join(', ')}`);
    if (!disk) return ok('no data disk');
    const reasons = await reasonsToLeave(ctx, disk);
    if (reasons.length > 0) return ok(`disk ${disk.number} left alone: ${reasons.join('; ')}`);
    const letter = firstFreeLetter(list(found.letters));
    if (letter === null) return failed(`disk ${disk.number} is blank, but no drive letter from D: to Z: is free`);
    const r = await runOwnScript(ctx, 'format-secondary-disk', formatScript(disk, letter), { timeoutMs: 600_000 });
    if (r.skipped) return skipped('not run: the root is not the running system');
    if (ctx.dryRun) return ok(`disk ${disk.number} would get a GPT, one NTFS volume and ${letter}:`);
    if (r.code !== 0) return failed(`disk ${disk.number}: ${failureText(r)}`);
    return ok(`disk ${disk.number}: GPT, one NTFS volume ${DATA_LABEL} as ${letter}:`);
  },
};
