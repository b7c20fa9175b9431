package parse

import (
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// The GB18030 decoder of x/text goes through transform.Transformer for
// every character. Nearly every non-ASCII character of a statement is a
// two-byte GBK character, so those are looked up in a table built once from
// x/text itself; anything else (four-byte sequences, invalid bytes) is left
// to x/text from that point on. The result is the same text x/text gives
// (TestDecodeGB18030Table checks it).

const (
	gbkLeadMin, gbkLeadMax   = 0x81, 0xfe
	gbkTrailMin, gbkTrailMax = 0x40, 0xfe
	gbkTrails                = gbkTrailMax - gbkTrailMin + 1
)

var (
	gbkOnce sync.Once
	// gbkTable maps (lead-0x81)*gbkTrails + trail-0x40 to the character's
	// UTF-8 bytes, packed little-endian with their count in the top byte;
	// 0 is not a two-byte character.
	gbkTable []uint32
)

func buildGBKTable() {
	gbkTable = make([]uint32, (gbkLeadMax-gbkLeadMin+1)*gbkTrails)
	dec := simplifiedchinese.GB18030.NewDecoder()
	var out [8]byte
	for lead := gbkLeadMin; lead <= gbkLeadMax; lead++ {
		for trail := gbkTrailMin; trail <= gbkTrailMax; trail++ {
			n, nSrc, err := dec.Transform(out[:], []byte{byte(lead), byte(trail)}, true)
			if err != nil || nSrc != 2 {
				continue
			}
			r, size := utf8.DecodeRune(out[:n])
			if size != n || r == utf8.RuneError || n > 3 {
				continue
			}
			v := uint32(n) << 24
			for k := n - 1; k >= 0; k-- {
				v |= uint32(out[k]) << (8 * k)
			}
			gbkTable[(lead-gbkLeadMin)*gbkTrails+trail-gbkTrailMin] = v
		}
	}
}

// appendGB18030 appends src decoded from GB18030 to dst as UTF-8. tr is a
// GB18030 decoder, used past the first character the table lacks.
func appendGB18030(dst, src []byte, tr transform.Transformer) []byte {
	gbkOnce.Do(buildGBKTable)
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if c >= gbkLeadMin && c <= gbkLeadMax && i+1 < len(src) {
			if t := src[i+1]; t >= gbkTrailMin && t <= gbkTrailMax {
				if v := gbkTable[int(c-gbkLeadMin)*gbkTrails+int(t-gbkTrailMin)]; v != 0 {
					if v>>24 == 3 {
						dst = append(dst, byte(v), byte(v>>8), byte(v>>16))
					} else {
						dst = append(dst, byte(v), byte(v>>8))
					}
					i += 2
					continue
				}
			}
		}
		// x/text for the rest: it keeps no state between characters.
		rest := src[i:]
		start := len(dst)
		dst = append(dst, make([]byte, 3*len(rest))...) // a byte of GB18030 is at most 3 bytes of UTF-8
		tr.Reset()
		n, _, err := tr.Transform(dst[start:], rest, true)
		if err != nil { // cannot happen with room for the worst case
			return append(dst[:start], strings.ToValidUTF8(string(rest), "\uFFFD")...)
		}
		return dst[:start+n]
	}
	return dst
}
