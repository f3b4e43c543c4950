namespace Res2Net.Runtime.Checkpoints;

/// <summary>Raised inside the pickle pipeline; the unpickler adds the file name and byte offset.</summary>
internal sealed class PickleError(string message) : Exception(message);

/// <summary>
/// The unpickler reached the end of a buffer that holds only the start of the file; the caller reads more and retries.
/// Never escapes the readers.
/// </summary>
internal sealed class PickleNeedsMoreData() : Exception("the pickle continues past the bytes read so far");
