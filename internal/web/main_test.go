package web_test

import (
	"testing"

	"github.com/mend-practice/mend/internal/web/browsertest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m, browsertest.Close) }
