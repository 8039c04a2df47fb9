// The Windows answer files in windows/sysprep/, from one template: `node -r tsm build/answer-files.ts`
// writes them; a unit test checks that the committed files are what this makes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ONE_TIME_PASSWORD } from '../lib/guest/windows/prepare-image';
import { root } from './common';

/** What a person puts in before using a sample; prepare-image refuses an answer file that still has one. */
export const TEMPORARY_PASSWORD = 'REPLACE-WITH-A-TEMPORARY-PASSWORD';
export const PRODUCT_KEY = 'REPLACE-WITH-YOUR-PRODUCT-KEY';

interface WindowsVersion {
  /** The folder name: server-2022, windows-11. */
  name: string;
  /** /IMAGE/NAME in install.wim. */
  image: string;
  /** Our ISO's driver folder for it (windows/drivers/<driver>/<target>/amd64). */
  drivers: string;
  note?: string;
}

const VERSIONS: WindowsVersion[] = [
  { name: 'server-2016', image: 'Windows Server 2016 SERVERDATACENTER', drivers: '2k16' },
  { name: 'server-2019', image: 'Windows Server 2019 SERVERDATACENTER', drivers: '2k19' },
  { name: 'server-2022', image: 'Windows Server 2022 SERVERDATACENTER', drivers: '2k22' },
  { name: 'server-2025', image: 'Windows Server 2025 SERVERDATACENTER', drivers: '2k22', note: 'Our drivers have no Server 2025 folder (drivers/manifest.json): the Server 2022 drivers serve it.' },
  { name: 'windows-10', image: 'Windows 10 Pro', drivers: 'w10' },
  { name: 'windows-11', image: 'Windows 11 Pro', drivers: 'w11' },
];
const FIRMWARES = ['bios', 'uefi'] as const;
type Firmware = (typeof FIRMWARES)[number];

/** Drive letters Windows Setup may give our ISO (after the Windows DVD); paths that do not exist are skipped. */
const ISO_LETTERS = ['D', 'E', 'F'];
/** Windows Setup needs the disk and network drivers; install.bat adds the others. */
const SETUP_DRIVERS = ['viostor', 'vioscsi', 'NetKVM'];

const component = (name: string, body: string[]) => [
  `    <component name="${name}" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
  ...body.map((l) => `      ${l}`),
  '    </component>',
];
const settings = (pass: string, components: string[][]) => [`  <settings pass="${pass}">`, ...components.flat(), '  </settings>'];
const locale = ['<InputLocale>en-US</InputLocale>', '<SystemLocale>en-US</SystemLocale>', '<UILanguage>en-US</UILanguage>', '<UserLocale>en-US</UserLocale>'];

function specialize(extra: string[][]): string[] {
  return settings('specialize', [
    component('Microsoft-Windows-Shell-Setup', ['<!-- A random name: sdc-guest set-hostname renames it from the metadata at the first boot. -->', '<ComputerName>*</ComputerName>', '<TimeZone>UTC</TimeZone>']),
    component('Microsoft-Windows-TerminalServices-LocalSessionManager', ['<fDenyTSConnections>false</fDenyTSConnections>']),
    component('Networking-MPSSVC-Svc', [
      '<FirewallGroups>',
      '  <FirewallGroup wcm:action="add" wcm:keyValue="RemoteDesktop">',
      '    <Active>true</Active>',
      '    <!-- "Remote Desktop", named so in every language. -->',
      '    <Group>@FirewallAPI.dll,-28752</Group>',
      '    <Profile>all</Profile>',
      '  </FirewallGroup>',
      '</FirewallGroups>',
    ]),
    ...extra,
  ]);
}

function oobe(password: string, passwordNote: string): string[] {
  return settings('oobeSystem', [
    component('Microsoft-Windows-International-Core', locale),
    component('Microsoft-Windows-Shell-Setup', [
      '<OOBE>',
      '  <HideEULAPage>true</HideEULAPage>',
      '  <HideLocalAccountScreen>true</HideLocalAccountScreen>',
      '  <HideOEMRegistrationScreen>true</HideOEMRegistrationScreen>',
      '  <HideOnlineAccountScreens>true</HideOnlineAccountScreens>',
      '  <HideWirelessSetupInOOBE>true</HideWirelessSetupInOOBE>',
      '  <ProtectYourPC>3</ProtectYourPC>',
      '</OOBE>',
      '<UserAccounts>',
      '  <AdministratorPassword>',
      `    <!-- ${passwordNote} -->`,
      `    <Value>${password}</Value>`,
      '    <PlainText>true</PlainText>',
      '  </AdministratorPassword>',
      '</UserAccounts>',
    ]),
  ]);
}

function document(about: string[], passes: string[][]): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!--',
    ...about.map((l) => `  ${l}`),
    '  Made by build/answer-files.ts from sdc-vm-tools; not run through Windows Setup by its tests (xmllint only).',
    '-->',
    '<unattend xmlns="urn:schemas-microsoft-com:unattend">',
    ...passes.flat(),
    '</unattend>',
    '',
  ].join('\r\n');
}

/** The answer file sdc-guest prepare-image gives sysprep (installed as C:\smartdc\sysprep\unattend.xml). */
function sysprepAnswerFile(): string {
  return document(
    [
      'The answer file for sysprep /generalize /oobe, given by sdc-guest.exe prepare-image (sysprep.bat)',
      'for Windows Server 2016, 2019, 2022, 2025 and Windows 10, 11. Each new instance of the image',
      'gets a random computer name, UTC, Remote Desktop on, no questions at the first boot, and the',
      'VirtIO drivers of the image kept.',
    ],
    [
      settings('generalize', [
        component('Microsoft-Windows-PnpSysprep', ['<PersistAllDeviceInstalls>true</PersistAllDeviceInstalls>']),
        component('Microsoft-Windows-Security-SPP', ['<SkipRearm>1</SkipRearm>']),
      ]),
      specialize([]),
      oobe(ONE_TIME_PASSWORD, `No password here: prepare-image puts a random one-time password into a copy of this file that it removes once sysprep has read it, and set-administrator-password sets administrator_pw at the first boot. Leave the value as it is.`),
    ],
  );
}

function partitions(firmware: Firmware): { create: string[]; modify: string[]; windows: number } {
  const part = (tag: string, order: number, fields: string[]) => [`  <${tag} wcm:action="add">`, `    <Order>${order}</Order>`, ...fields.map((f) => `    ${f}`), `  </${tag}>`];
  if (firmware === 'uefi') {
    return {
      create: [...part('CreatePartition', 1, ['<Type>EFI</Type>', '<Size>260</Size>']), ...part('CreatePartition', 2, ['<Type>MSR</Type>', '<Size>16</Size>']), ...part('CreatePartition', 3, ['<Type>Primary</Type>', '<Extend>true</Extend>'])],
      modify: [
        ...part('ModifyPartition', 1, ['<PartitionID>1</PartitionID>', '<Format>FAT32</Format>', '<Label>System</Label>']),
        ...part('ModifyPartition', 2, ['<PartitionID>2</PartitionID>']),
        ...part('ModifyPartition', 3, ['<PartitionID>3</PartitionID>', '<Format>NTFS</Format>', '<Label>Windows</Label>', '<Letter>C</Letter>']),
      ],
      windows: 3,
    };
  }
  return {
    create: [...part('CreatePartition', 1, ['<Type>Primary</Type>', '<Size>500</Size>']), ...part('CreatePartition', 2, ['<Type>Primary</Type>', '<Extend>true</Extend>'])],
    modify: [
      ...part('ModifyPartition', 1, ['<PartitionID>1</PartitionID>', '<Active>true</Active>', '<Format>NTFS</Format>', '<Label>System Reserved</Label>']),
      ...part('ModifyPartition', 2, ['<PartitionID>2</PartitionID>', '<Format>NTFS</Format>', '<Label>Windows</Label>', '<Letter>C</Letter>']),
    ],
    windows: 2,
  };
}

/** Windows 11 Setup refuses a machine without TPM 2.0 and Secure Boot, which a bhyve or KVM VM may lack. */
const WINDOWS_11_CHECKS = ['BypassTPMCheck', 'BypassSecureBootCheck', 'BypassRAMCheck'];

/** Windows Setup from the install media onto disk 0, our drivers and tools from our ISO. */
function autounattend(version: WindowsVersion, firmware: Firmware): string {
  const layout = partitions(firmware);
  let key = 0;
  const driverPaths = ISO_LETTERS.flatMap((letter) => SETUP_DRIVERS.map((d) => `  <PathAndCredentials wcm:action="add" wcm:keyValue="${++key}"><Path>${letter}:\\windows\\drivers\\${d}\\${version.drivers}\\amd64</Path></PathAndCredentials>`));
  const setupCommands = version.name === 'windows-11'
    ? ['<RunSynchronous>', '  <!-- Remove these three if the VM has TPM 2.0 and Secure Boot. -->', ...WINDOWS_11_CHECKS.map((check, i) => `  <RunSynchronousCommand wcm:action="add"><Order>${i + 1}</Order><Path>reg.exe add HKLM\\SYSTEM\\Setup\\LabConfig /v ${check} /t REG_DWORD /d 1 /f</Path></RunSynchronousCommand>`), '</RunSynchronous>']
    : [];
  const install = `cmd.exe /c "for %d in (${['D', 'E', 'F', 'G', 'H'].join(' ')}) do @if exist %d:\\windows\\install.bat call %d:\\windows\\install.bat"`;
  return document(
    [
      `Windows Setup answer file for ${version.image} on ${firmware === 'uefi' ? 'UEFI (GPT)' : 'BIOS (MBR)'}, for a SmartOS/Triton`,
      'bhyve or KVM VM with the Windows install media and the sdc-vm-tools ISO attached. Put it, named',
      'Autounattend.xml, at the root of a third CD or a floppy: Windows Setup finds it there.',
      'WARNING: it erases disk 0 without asking.',
      'It loads the VirtIO disk and network drivers from the sdc-vm-tools ISO, installs Windows,',
      'installs the guest tools (install.bat) and turns on the serial console (EMS on COM1).',
      `Before use: replace ${TEMPORARY_PASSWORD} and ${PRODUCT_KEY} (see the comments there).`,
      ...(version.note ? [version.note] : []),
    ],
    [
      settings('windowsPE', [
        component('Microsoft-Windows-International-Core-WinPE', ['<SetupUILanguage>', '  <UILanguage>en-US</UILanguage>', '</SetupUILanguage>', ...locale]),
        component('Microsoft-Windows-PnpCustomizationsWinPE', ['<DriverPaths>', ...driverPaths, '</DriverPaths>']),
        component('Microsoft-Windows-Setup', [
          '<DiskConfiguration>',
          '  <Disk wcm:action="add">',
          '    <DiskID>0</DiskID>',
          '    <WillWipeDisk>true</WillWipeDisk>',
          '    <CreatePartitions>',
          ...layout.create.map((l) => `    ${l}`),
          '    </CreatePartitions>',
          '    <ModifyPartitions>',
          ...layout.modify.map((l) => `    ${l}`),
          '    </ModifyPartitions>',
          '  </Disk>',
          '  <WillShowUI>OnError</WillShowUI>',
          '</DiskConfiguration>',
          '<ImageInstall>',
          '  <OSImage>',
          '    <InstallFrom>',
          '      <!-- The edition: dism /Get-WimInfo /WimFile:D:\\sources\\install.wim lists the names on your media. -->',
          `      <MetaData wcm:action="add"><Key>/IMAGE/NAME</Key><Value>${version.image}</Value></MetaData>`,
          '    </InstallFrom>',
          `    <InstallTo><DiskID>0</DiskID><PartitionID>${layout.windows}</PartitionID></InstallTo>`,
          '    <WillShowUI>OnError</WillShowUI>',
          '  </OSImage>',
          '</ImageInstall>',
          ...setupCommands,
          '<UserData>',
          '  <AcceptEula>true</AcceptEula>',
          '  <ProductKey>',
          `    <!-- Your product key (or a KMS client key). For evaluation media, remove this ProductKey element. -->`,
          `    <Key>${PRODUCT_KEY}</Key>`,
          '    <WillShowUI>OnError</WillShowUI>',
          '  </ProductKey>',
          '</UserData>',
        ]),
      ]),
      specialize([
        component('Microsoft-Windows-Deployment', [
          '<RunSynchronous>',
          '  <RunSynchronousCommand wcm:action="add"><Order>1</Order><Description>Serial console (EMS) on COM1</Description><Path>bcdedit.exe /ems {default} on</Path></RunSynchronousCommand>',
          '  <RunSynchronousCommand wcm:action="add"><Order>2</Order><Path>bcdedit.exe /emssettings EMSPORT:1 EMSBAUDRATE:115200</Path></RunSynchronousCommand>',
          `  <RunSynchronousCommand wcm:action="add"><Order>3</Order><Description>SDC guest tools from their ISO</Description><Path>${install}</Path></RunSynchronousCommand>`,
          '</RunSynchronous>',
        ]),
      ]),
      oobe(TEMPORARY_PASSWORD, 'A temporary password of yours for building the image (never a real one in a file you keep): each instance gets administrator_pw at its first boot.'),
    ],
  );
}

const SYSPREP_ANSWER_FILE = 'windows/sysprep/unattend.xml';
const autounattendPath = (version: WindowsVersion, firmware: Firmware) => `windows/sysprep/autounattend/${version.name}-${firmware}/Autounattend.xml`;

/** The path of every answer file, in the order of `answerFiles()`, without making them (build/layout.ts). */
export function answerFilePaths(): string[] {
  return [SYSPREP_ANSWER_FILE, ...VERSIONS.flatMap((version) => FIRMWARES.map((firmware) => autounattendPath(version, firmware)))];
}

/** Every answer file, by its path in the repository (and in the archives). */
export function answerFiles(): Record<string, string> {
  const files: Record<string, string> = { [SYSPREP_ANSWER_FILE]: sysprepAnswerFile() };
  for (const version of VERSIONS) {
    for (const firmware of FIRMWARES) files[autounattendPath(version, firmware)] = autounattend(version, firmware);
  }
  return files;
}

if (require.main === module) {
  for (const [path, text] of Object.entries(answerFiles())) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    console.log(`answer-files: ${path}`);
  }
}
