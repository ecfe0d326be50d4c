package dataplane

import (
	"fmt"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// TestSetElementChunks: a verdict map of interface names made with 3,000 elements in one
// batch holds all 3,000, and removing them in one batch leaves none. With the elements in
// one netlink message (google/nftables' AddSet alone), the kernel kept 829 of 2,000:
// the element list's attribute length has 16 bits.
func TestSetElementChunks(t *testing.T) {
	p := newTestPlane(t) // its teardown removes the namespace
	ns, err := createNS(p.prefix + "-chunks")
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	conn := nftIn(t, p.prefix+"-chunks")
	tab := conn.AddTable(&nftables.Table{Name: p.prefix, Family: nftables.TableFamilyBridge})
	conn.AddChain(&nftables.Chain{Name: "to", Table: tab})
	set := nftMapSet(tab, &nftMap{name: "premap", keyType: nftables.TypeIFName})
	const n = 3000
	var elems []nftables.SetElement
	for i := range n {
		elems = append(elems, nftables.SetElement{Key: ifnameKey(ifName(p.prefix, kindENIHost, fmt.Sprint("eni-", i))),
			VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: "to"}})
	}
	if err := addSet(conn, set, elems); err != nil {
		t.Fatal(err)
	}
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, err := conn.GetSetElements(set); err != nil || len(got) != n {
		t.Fatalf("the map holds %d elements (%v), want %d", len(got), err, n)
	}
	if err := delElems(conn, set, elems); err != nil {
		t.Fatal(err)
	}
	if err := conn.Flush(); err != nil {
		t.Fatalf("removing all %d in one batch: %v", n, err)
	}
	if got, err := conn.GetSetElements(set); err != nil || len(got) != 0 {
		t.Fatalf("after removing all: %d elements (%v)", len(got), err)
	}
}
