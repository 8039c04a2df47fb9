@echo off
rem Installs the SDC guest tools (sdc-vm-tools) into C:\smartdc: run it as an administrator.
rem It runs install.ps1 beside it (see there for what it does); install.bat -Force replaces
rem a SetupComplete.cmd that is not ours.
powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "%~dp0install.ps1" %*
exit /b %ERRORLEVEL%
