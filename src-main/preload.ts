// Preload: the minimal bridge the UI may use inside Electron (native file dialogs); nothing else is exposed.
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('workbench', {
  openFile: (): Promise<string | null> => ipcRenderer.invoke('dialog:openFile'),
  saveFile: (suggested: string): Promise<string | null> => ipcRenderer.invoke('dialog:saveFile', suggested),
});
