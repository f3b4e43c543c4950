using ApprovalTests.Reporters;

// Snapshot mismatches fail the test and leave a .received.txt beside the .approved.txt; no diff tool is launched.
[assembly: UseReporter(typeof(QuietReporter))]
