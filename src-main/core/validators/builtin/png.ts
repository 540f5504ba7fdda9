// Owns the `png` validator: the upload must sniff as a png image.
import { imageKind } from '../imghdr';
import { registerValidator } from '../registry';

registerValidator({
  name: 'png',
  description: 'A PNG image (PNG signature).',
  // A_A raised on non-image data (HTTP 507); here that is simply a failed check.
  check: async (file) => (await imageKind(file)) === 'png',
});
