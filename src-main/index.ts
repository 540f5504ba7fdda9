// Electron main: starts the same core and server on 127.0.0.1 (free port) and opens the workbench window.
import path from 'node:path';
import fs from 'node:fs';
import { app, BrowserWindow, Menu, dialog, ipcMain, shell } from 'electron';
import { createCore, type CoreInternals } from './core';
import { defaultDataDir } from './core/paths';
import { startServer, type RunningServer } from './server/app';

// Built layout: out/main/index.js, out/main/launcher.js, out/preload/index.js, out/renderer/.
const launcherFile = path.join(__dirname, 'launcher.js');
const uiDir = path.join(__dirname, '..', 'renderer');
const preload = path.join(__dirname, '..', 'preload', 'index.js');
// better-sqlite3 built for Electron's ABI sits beside the Node build (see README, "Desktop window").
const electronBinding = path.join(__dirname, '..', '..', 'native', 'electron', 'better_sqlite3.node');

let core: CoreInternals | null = null;
let server: RunningServer | null = null;
let window: BrowserWindow | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app.whenReady().then(start).catch((error: unknown) => {
    dialog.showErrorBox('A_A Workbench could not start', String((error as Error).stack ?? error));
    app.exit(1);
  });
}

async function start(): Promise<void> {
  core = await createCore({
    dataDir: defaultDataDir(),
    launcherFile,
    nativeBinding: fs.existsSync(electronBinding) ? electronBinding : undefined,
  });
  // Loopback on a free port, unless the analyst published on the LAN (Access), which binds the configured address.
  const { host, port } = core.settings();
  const lan = host !== '127.0.0.1' && host !== 'localhost' && host !== '::1';
  server = await startServer(core, { host: lan ? host : '127.0.0.1', port: lan ? port : 0, uiDir });
  ipcMain.handle('dialog:openFile', async () => {
    const r = await dialog.showOpenDialog({ properties: ['openFile'] });
    return r.canceled ? null : r.filePaths[0];
  });
  ipcMain.handle('dialog:saveFile', async (_e, suggested: string) => {
    const r = await dialog.showSaveDialog({ defaultPath: suggested });
    return r.canceled ? null : r.filePath;
  });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      { role: 'fileMenu' },
      { role: 'editMenu' },
      { role: 'viewMenu' },
      { role: 'windowMenu' },
      {
        role: 'help',
        submenu: [{ label: 'Open the data folder', click: () => void shell.openPath(core?.paths.root ?? '') }],
      },
    ]),
  );
  window = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'A_A Workbench',
    webPreferences: { preload, contextIsolation: true, nodeIntegration: false, sandbox: true },
  });
  // Links to other origins open in the user's browser, never inside the app.
  window.webContents.setWindowOpenHandler(({ url }) => {
    void shell.openExternal(url);
    return { action: 'deny' };
  });
  await window.loadURL(server.workbenchUrl);
}

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting) return;
  quitting = true;
  event.preventDefault();
  // Graceful shutdown: stop intake, let running attempts finish (bounded), then quit.
  void (async () => {
    core?.pause();
    await server?.close();
    await core?.close();
    app.exit(0);
  })();
});

app.on('window-all-closed', () => app.quit());
