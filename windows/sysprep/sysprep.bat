@echo off
rem Prepares this VM to become an image: "sdc-guest.exe prepare-image" checks it, removes the guest
rem tools' own state, disables their boot task until the next setup is done, runs sysprep
rem /generalize /oobe with C:\smartdc\sysprep\unattend.xml and powers the VM off.
rem Options (--dry-run, --strict, --no-sysprep, --unattend PATH): sdc-guest.exe prepare-image --help
"%~dp0..\bin\sdc-guest.exe" prepare-image %*
exit /b %ERRORLEVEL%
