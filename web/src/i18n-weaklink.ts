/**
 * Labels of the call page's weak-link states: another participant's link, and this device
 * trying video again after falling to audio only. Vietnamese first; `en` is typed by `vi`.
 */
import { lang } from './i18n.ts';

const vi = {
  /** Badge on another participant's tile when their link is weak. */
  weakLink: 'Đường truyền yếu',
  weakLinkTitle: 'Người này đang ở nơi sóng yếu: hình có thể thấp hoặc tạm tắt, tiếng vẫn được ưu tiên',
  lowPicture: 'Hình thấp',
  /** This device is trying video again (audio only until the link proves it can carry it). */
  probing: 'Đang thử bật lại video…',
};

type Dict = typeof vi;

const en: Dict = {
  weakLink: 'Weak connection',
  weakLinkTitle: 'This person is on a weak signal: their picture may be small or paused; audio comes first',
  lowPicture: 'Low picture',
  probing: 'Trying video again…',
};

export function tw(): Dict {
  return lang.value === 'en' ? en : vi;
}
