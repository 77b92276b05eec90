// The moov-io/iso8583 peer of issue #17: the UnionPay IC sale body (../ic_sale.hex) unpacked and
// packed with a spec for the UnionPay POS field formats, the round trip asserted byte for byte,
// then timed (min and median over batches, ns per operation).
package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
)

// track2 is packed BCD whose nibbles are hex digits (D is the separator), left-aligned: field 35.
type track2 struct{}

func (track2) Encode(src []byte) ([]byte, error) {
	s := string(src)
	if len(s)%2 != 0 {
		s += "0"
	}
	return hex.DecodeString(s)
}

func (track2) Decode(src []byte, length int) ([]byte, int, error) {
	read := (length + 1) / 2
	if len(src) < read {
		return nil, 0, fmt.Errorf("need %d bytes, have %d", read, len(src))
	}
	return []byte(strings.ToUpper(hex.EncodeToString(src[:read]))[:length]), read, nil
}

func str(n int, enc encoding.Encoder, pref prefix.Prefixer, desc string) field.Field {
	return field.NewString(&field.Spec{Length: n, Description: desc, Enc: enc, Pref: pref})
}

func bin(n int, pref prefix.Prefixer, desc string) field.Field {
	return field.NewBinary(&field.Spec{Length: n, Description: desc, Enc: encoding.Binary, Pref: pref})
}

// The UnionPay POS formats (the same table as core/src/codec/iso8583/cups.rs) for the fields the
// sale carries.
var spec = &iso8583.MessageSpec{
	Name: "UnionPay POS",
	Fields: map[int]field.Field{
		0:  str(4, encoding.BCD, prefix.BCD.Fixed, "MTI"),
		1:  field.NewBitmap(&field.Spec{Length: 8, Description: "Bitmap", Enc: encoding.Binary, Pref: prefix.Binary.Fixed}),
		2:  str(19, encoding.LBCD, prefix.BCD.LL, "PAN"),
		3:  str(6, encoding.BCD, prefix.BCD.Fixed, "processing code"),
		4:  str(12, encoding.BCD, prefix.BCD.Fixed, "amount"),
		11: str(6, encoding.BCD, prefix.BCD.Fixed, "STAN"),
		14: str(4, encoding.BCD, prefix.BCD.Fixed, "expiry"),
		22: str(3, encoding.LBCD, prefix.BCD.Fixed, "entry mode"),
		23: str(3, encoding.BCD, prefix.BCD.Fixed, "card sequence number"),
		25: str(2, encoding.BCD, prefix.BCD.Fixed, "condition code"),
		26: str(2, encoding.BCD, prefix.BCD.Fixed, "PIN capture code"),
		35: str(37, track2{}, prefix.BCD.LL, "track 2"),
		41: str(8, encoding.ASCII, prefix.ASCII.Fixed, "terminal id"),
		42: str(15, encoding.ASCII, prefix.ASCII.Fixed, "merchant id"),
		49: str(3, encoding.ASCII, prefix.ASCII.Fixed, "currency"),
		52: bin(8, prefix.Binary.Fixed, "PIN block"),
		53: str(16, encoding.BCD, prefix.BCD.Fixed, "security control"),
		55: bin(255, prefix.BCD.LLL, "ICC data"),
		60: str(17, encoding.LBCD, prefix.BCD.LLL, "reserved private"),
		64: bin(8, prefix.Binary.Fixed, "MAC"),
	},
}

func roundTrip(body []byte) ([]byte, error) {
	msg := iso8583.NewMessage(spec)
	if err := msg.Unpack(body); err != nil {
		return nil, err
	}
	return msg.Pack()
}

// timeIt returns min and median ns per op over `batches` batches of `per` calls.
func timeIt(batches, per int, op func()) (float64, float64) {
	samples := make([]float64, batches)
	for b := range samples {
		t := time.Now()
		for i := 0; i < per; i++ {
			op()
		}
		samples[b] = float64(time.Since(t).Nanoseconds()) / float64(per)
	}
	sort.Float64s(samples)
	return samples[0], samples[len(samples)/2]
}

func main() {
	path := "../ic_sale.hex"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	text, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	body, err := hex.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		panic(err)
	}
	again, err := roundTrip(body)
	if err != nil {
		panic(err)
	}
	if !bytes.Equal(again, body) {
		fmt.Fprintf(os.Stderr, "round trip differs:\n%X\n%X\n", body, again)
		os.Exit(1)
	}
	msg := iso8583.NewMessage(spec)
	if err := msg.Unpack(body); err != nil {
		panic(err)
	}
	timeIt(20, 200, func() { _, _ = roundTrip(body) })
	unMin, unMed := timeIt(100, 200, func() {
		m := iso8583.NewMessage(spec)
		_ = m.Unpack(body)
	})
	pkMin, pkMed := timeIt(100, 200, func() { _, _ = msg.Pack() })
	fmt.Printf("moov unpack_min_ns=%.0f unpack_median_ns=%.0f pack_min_ns=%.0f pack_median_ns=%.0f bytes=%d\n",
		unMin, unMed, pkMin, pkMed, len(body))
}
