@echo off
rem Written by sdc-vm-tools (install.ps1). Windows runs this once, as SYSTEM, at the end of setup:
rem on each new instance of an image made with sdc-guest prepare-image, and after a fresh install.
rem It enables the task sdc-guest-boot (left disabled during setup, so that it cannot rename or
rem restart the machine in the middle of it) and starts it for this first boot. The task then runs
rem "C:\smartdc\bin\sdc-guest.exe boot" at every startup; its log is C:\smartdc\logs\sdc-guest.log.
schtasks.exe /Change /TN "sdc-guest-boot" /ENABLE
schtasks.exe /Run /TN "sdc-guest-boot"
exit /b 0
