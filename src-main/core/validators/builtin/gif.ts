// Owns the `gif` validator: the upload must sniff as a gif image.
import { imageKind } from '../imghdr';
import { registerValidator } from '../registry';

registerValidator({
  name: 'gif',
  description: 'A GIF image (GIF87a or GIF89a).',
  // A_A raised on non-image data (HTTP 507); here that is simply a failed check.
  check: async (file) => (await imageKind(file)) === 'gif',
});
