package report

import "github.com/ftpharness/ftpharness/ftp"

// printable is r with every string a server could have shaped (reasons,
// observations, transcripts, target) passed through ftp.Printable: valid
// UTF-8, no control sequences, whether it ends on a terminal or in HTML.
func (r Run) printable() Run {
	out := r
	out.Target, out.Server = ftp.Printable(r.Target), ftp.Printable(r.Server)
	out.Verdicts = make([]Verdict, len(r.Verdicts))
	for i, v := range r.Verdicts {
		v.ID, v.Title, v.RFC = ftp.Printable(v.ID), ftp.Printable(v.Title), ftp.Printable(v.RFC)
		v.Reason, v.Transcript = ftp.Printable(v.Reason), ftp.Printable(v.Transcript)
		obs := make([]string, len(v.Observations))
		for j, o := range v.Observations {
			obs[j] = ftp.Printable(o)
		}
		if v.Observations == nil {
			obs = nil
		}
		v.Observations = obs
		out.Verdicts[i] = v
	}
	return out
}
