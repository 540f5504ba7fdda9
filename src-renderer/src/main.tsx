// Renderer entry: keep the launch token, then mount the workbench.
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { captureToken, setToken } from './api/client';
import { App } from './App';

setToken(captureToken());
createRoot(document.getElementById('root') as HTMLElement).render(<App />);
