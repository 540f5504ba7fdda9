// Owns the `jpeg` validator: the upload must sniff as a jpeg image.
import { imageKind } from '../imghdr';
import { registerValidator } from '../registry';

registerValidator({
  name: 'jpeg',
  description: 'A JPEG image (JFIF or Exif marker, or a raw JPEG header).',
  // A_A raised on non-image data (HTTP 507); here that is simply a failed check.
  check: async (file) => (await imageKind(file)) === 'jpeg',
});
