import { failed, ok, skipped, type GuestAction } from '../action';
import { failureText, runOwnScript } from './powershell';

/**
 * Reads the password from stdin as raw UTF-8 bytes (not through the console's code page) and
 * builds the SecureString one character at a time: no cmdlet ever gets the plain text, so
 * PowerShell's module and script block logging cannot record it.
 */
export const SET_PASSWORD_SCRIPT = `# Written by sdc-guest set-administrator-password: the local Administrator's password from stdin.
$ErrorActionPreference = 'Stop'
$stdin = [Console]::OpenStandardInput()
$buffer = New-Object System.IO.MemoryStream
$stdin.CopyTo($buffer)
$bytes = $buffer.ToArray()
$chars = [System.Text.Encoding]::UTF8.GetChars($bytes)
$password = New-Object System.Security.SecureString
foreach ($c in $chars) { $password.AppendChar($c) }
$password.MakeReadOnly()
[Array]::Clear($bytes, 0, $bytes.Length)
[Array]::Clear($chars, 0, $chars.Length)
# The built-in Administrator is the account whose SID ends in -500, whatever its name in this language.
$admin = Get-LocalUser | Where-Object { $_.SID.Value -match '^S-1-5-21-.+-500$' }
if (-not $admin) { throw 'no local account with a SID ending in -500' }
Set-LocalUser -InputObject $admin -Password $password
if (-not $admin.Enabled) {
  Enable-LocalUser -InputObject $admin
  Write-Output "enabled the account $($admin.Name)"
}
Write-Output "password set for $($admin.Name)"
`;

/**
 * `administrator_pw` as the local Administrator's password, once per instance (a password changed
 * by hand later is not undone at the next boot). A missing key changes nothing.
 */
export const setAdministratorPassword: GuestAction = {
  name: 'set-administrator-password',
  summary: "Set administrator_pw as the local Administrator's password (and enable the account), once per instance.",
  keys: ['administrator_pw'],
  once: true,
  async run(ctx) {
    const password = ctx.metadata.get('administrator_pw');
    if (password === null) return skipped('no administrator_pw in the metadata; the Administrator password is left as it is');
    if (password === '' || /[\r\n]/.test(password)) return failed('administrator_pw is empty or holds a line break; not applied');
    const r = await runOwnScript(ctx, 'set-administrator-password', SET_PASSWORD_SCRIPT, { input: password, timeoutMs: 120_000 });
    if (r.skipped) return skipped('not run: the root is not the running system');
    if (ctx.dryRun) return ok('the Administrator password would be set from administrator_pw');
    if (r.code !== 0) return failed(failureText(r));
    return ok('Administrator password set from administrator_pw');
  },
};
