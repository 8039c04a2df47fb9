<#
.SYNOPSIS
Installs the SDC guest tools (sdc-vm-tools) from this ISO or unpacked zip into C:\smartdc.

.DESCRIPTION
Run it through install.bat, as an administrator (or as SYSTEM during Windows Setup). It:
  - makes C:\smartdc writable by SYSTEM and Administrators only (the boot task runs what is in
    it as SYSTEM), with C:\smartdc\bin readable by every user;
  - copies the executable to C:\smartdc\bin as sdc-guest.exe, with hard links mdata-get.exe,
    mdata-put.exe, mdata-list.exe and mdata-delete.exe, and adds C:\smartdc\bin to the system PATH;
  - copies sysprep.bat and the answer file unattend.xml to C:\smartdc\sysprep (an existing,
    edited unattend.xml is kept; the new one is put beside it as unattend.xml.new);
  - registers the scheduled task sdc-guest-boot: "sdc-guest.exe boot" at every startup, as SYSTEM,
    without a stored password. During Windows Setup it is registered disabled;
  - installs %WINDIR%\Setup\Scripts\SetupComplete.cmd, which enables and starts that task at the
    end of Windows Setup (a new instance of an image, or a fresh install);
  - installs the VirtIO drivers for this Windows version from the drivers folder beside this
    script with pnputil, when the folder has them.
Run it again to update: it stops a running boot task first and replaces the executables.
A transcript is kept in C:\smartdc\logs\install.log.

.PARAMETER Force
Replace a SetupComplete.cmd that is not ours; the old one is kept as SetupComplete.cmd.before-sdc.
#>
[CmdletBinding()]
param(
  [switch]$Force
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$here = Split-Path -Parent $PSCommandPath
$smartdc = 'C:\smartdc'
$bin = Join-Path $smartdc 'bin'
$logs = Join-Path $smartdc 'logs'
$sysprep = Join-Path $smartdc 'sysprep'
$taskName = 'sdc-guest-boot'
$main = Join-Path $bin 'sdc-guest.exe'
$toolNames = @('mdata-get.exe', 'mdata-put.exe', 'mdata-list.exe', 'mdata-delete.exe')
# Well-known SIDs, so that this works in every language: SYSTEM, Administrators, Users.
$system = '*S-1-5-18'
$administrators = '*S-1-5-32-544'
$users = '*S-1-5-32-545'

function Write-Step([string]$Text) {
  Write-Output "install: $Text"
}

# A native command's exit code decides; its stderr is text for the message. (With 'Stop', Windows
# PowerShell 5.1 would turn any stderr line of a native command into a terminating error.)
function Invoke-Checked([string]$What, [scriptblock]$Command) {
  $ErrorActionPreference = 'Continue'
  $output = & $Command 2>&1
  if ($LASTEXITCODE -ne 0) { throw "$What failed (exit $LASTEXITCODE): $output" }
}

function Test-SetupInProgress {
  $setup = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\Setup' -ErrorAction SilentlyContinue
  return ($setup -and $setup.SystemSetupInProgress -eq 1)
}

# The virtio-win folder for this Windows: the drivers we ship exist for 2k16, 2k19, 2k22, w10, w11.
function Get-DriverTarget {
  $os = Get-CimInstance -ClassName Win32_OperatingSystem
  $build = [int]$os.BuildNumber
  if ($os.ProductType -eq 1) {
    if ($build -ge 22000) { return 'w11' }
    return 'w10'
  }
  # Server 2025 (build 26100) has no folder of its own in our drivers: the 2022 drivers serve it.
  if ($build -ge 20348) { return '2k22' }
  if ($build -ge 17763) { return '2k19' }
  return '2k16'
}

function Install-Folders {
  New-Item -ItemType Directory -Force -Path $bin, $logs, $sysprep | Out-Null
  Invoke-Checked "icacls $smartdc" { icacls.exe $smartdc /inheritance:r /grant:r "${system}:(OI)(CI)F" "${administrators}:(OI)(CI)F" }
  Invoke-Checked "icacls $bin" { icacls.exe $bin /grant "${users}:(OI)(CI)RX" }
  Write-Step "${smartdc}: SYSTEM and Administrators only; $bin readable by every user"
}

function Install-Executables {
  $task = Get-ScheduledTask -TaskName $taskName -ErrorAction SilentlyContinue
  if ($task -and $task.State -eq 'Running') {
    Stop-ScheduledTask -TaskName $taskName
    Write-Step "stopped the running task $taskName to replace its executable"
  }
  $source = Join-Path $here 'bin\mdata-get.exe'
  if (-not (Test-Path -LiteralPath $source)) { throw "$source is missing: run install.bat from the windows folder of the ISO or the zip" }
  Copy-Item -LiteralPath $source -Destination "$main.new" -Force
  Move-Item -LiteralPath "$main.new" -Destination $main -Force
  foreach ($name in $toolNames) {
    $link = Join-Path $bin $name
    if (Test-Path -LiteralPath $link) { Remove-Item -LiteralPath $link -Force }
    try {
      New-Item -ItemType HardLink -Path $link -Target $main | Out-Null
    } catch {
      Copy-Item -LiteralPath $main -Destination $link
    }
  }
  Write-Step "$main, with $($toolNames -join ', ')"
}

function Install-SysprepFiles {
  Copy-Item -LiteralPath (Join-Path $here 'sysprep\sysprep.bat') -Destination $sysprep -Force
  $answer = Join-Path $sysprep 'unattend.xml'
  $sample = Join-Path $here 'sysprep\unattend.xml'
  if ((Test-Path -LiteralPath $answer) -and ((Get-FileHash -LiteralPath $answer).Hash -ne (Get-FileHash -LiteralPath $sample).Hash)) {
    Copy-Item -LiteralPath $sample -Destination "$answer.new" -Force
    Write-Step "kept your $answer; the new sample is $answer.new"
  } else {
    Copy-Item -LiteralPath $sample -Destination $answer -Force
    Write-Step "${sysprep}: sysprep.bat, unattend.xml"
  }
}

function Add-ToSystemPath {
  $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SYSTEM\CurrentControlSet\Control\Session Manager\Environment', $true)
  try {
    # Read and write the raw value, so that entries such as %SystemRoot% stay unexpanded.
    $path = [string]$key.GetValue('Path', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    if (($path -split ';') -contains $bin) {
      Write-Step "$bin is already on the system PATH"
      return
    }
    $key.SetValue('Path', "$($path.TrimEnd(';'));$bin", [Microsoft.Win32.RegistryValueKind]::ExpandString)
    Write-Step "$bin added to the system PATH (new sessions see it)"
  } finally {
    $key.Close()
  }
}

function Register-BootTask {
  $action = New-ScheduledTaskAction -Execute $main -Argument 'boot' -WorkingDirectory $smartdc
  $trigger = New-ScheduledTaskTrigger -AtStartup
  $principal = New-ScheduledTaskPrincipal -UserId 'S-1-5-18' -LogonType ServiceAccount -RunLevel Highest
  $inSetup = Test-SetupInProgress
  # During Windows Setup the task must not run yet: SetupComplete.cmd enables it when setup is done.
  $settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -ExecutionTimeLimit (New-TimeSpan -Hours 2) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -StartWhenAvailable -Disable:$inSetup
  $description = 'sdc-vm-tools: applies the metadata (network, Administrator password, computer name, data disk, scripts) at every startup.'
  Register-ScheduledTask -TaskName $taskName -Action $action -Trigger $trigger -Principal $principal -Settings $settings -Description $description -Force | Out-Null
  if ($inSetup) { Write-Step "task $taskName registered, disabled until SetupComplete.cmd runs at the end of setup" }
  else { Write-Step "task $taskName registered: sdc-guest.exe boot at every startup, as SYSTEM" }
}

function Install-SetupComplete {
  $folder = Join-Path $env:WINDIR 'Setup\Scripts'
  $target = Join-Path $folder 'SetupComplete.cmd'
  $ours = Join-Path $here 'SetupComplete.cmd'
  if (Test-Path -LiteralPath $target) {
    $existing = Get-Content -Raw -LiteralPath $target
    if ($existing -notmatch [regex]::Escape($taskName)) {
      if (-not $Force) { throw "$target exists and is not ours: merge it with $ours by hand, or run install.bat -Force to replace it (it is kept as SetupComplete.cmd.before-sdc)" }
      Copy-Item -LiteralPath $target -Destination "$target.before-sdc" -Force
      Write-Step "kept the old $target as SetupComplete.cmd.before-sdc"
    }
  }
  New-Item -ItemType Directory -Force -Path $folder | Out-Null
  Copy-Item -LiteralPath $ours -Destination $target -Force
  Write-Step "$target installed"
}

function Install-Drivers {
  $drivers = Join-Path $here 'drivers'
  $target = Get-DriverTarget
  $infs = @(Get-ChildItem -LiteralPath $drivers -Filter '*.inf' -Recurse -ErrorAction SilentlyContinue | Where-Object { $_.Directory.Parent.Name -eq $target })
  if ($infs.Count -eq 0) {
    Write-Step "no VirtIO drivers for $target in ${drivers}: none installed"
    return
  }
  foreach ($inf in $infs) {
    $ErrorActionPreference = 'Continue'
    $output = & pnputil.exe /add-driver $inf.FullName /install 2>&1
    $ErrorActionPreference = 'Stop'
    # 3010: installed, a reboot completes it.
    if ($LASTEXITCODE -eq 0 -or $LASTEXITCODE -eq 3010) { Write-Step "driver $($inf.Name) ($target) installed" }
    else { Write-Warning "pnputil /add-driver $($inf.FullName) exited $($LASTEXITCODE): $output" }
  }
  $balloon = Get-ChildItem -LiteralPath $drivers -Filter 'blnsvr.exe' -Recurse -ErrorAction SilentlyContinue | Where-Object { $_.Directory.Parent.Name -eq $target } | Select-Object -First 1
  if ($balloon -and -not (Get-Service -Name 'BalloonService' -ErrorAction SilentlyContinue)) {
    Copy-Item -LiteralPath $balloon.FullName -Destination (Join-Path $bin 'blnsvr.exe') -Force
    Invoke-Checked 'blnsvr.exe -i' { & (Join-Path $bin 'blnsvr.exe') -i }
    Write-Step 'balloon service installed'
  }
}

$principalNow = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principalNow.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'install.bat must run as an administrator: right-click it, "Run as administrator"'
}

Install-Folders
Start-Transcript -Path (Join-Path $logs 'install.log') -Append | Out-Null
try {
  Install-Executables
  Install-SysprepFiles
  Add-ToSystemPath
  Register-BootTask
  Install-SetupComplete
  Install-Drivers
  Write-Step "done. Check with: $main status"
} finally {
  Stop-Transcript | Out-Null
}
