namespace Res2Net.Runtime.Download;

/// <summary>How far a download has come, reported as bytes arrive.</summary>
/// <param name="Url">What is being fetched.</param>
/// <param name="BytesReceived">Bytes in the temporary file so far (resumed bytes included).</param>
/// <param name="TotalBytes">The file's size when the server said it; null otherwise.</param>
/// <param name="Attempt">1 for the first request; higher after a dropped connection was resumed.</param>
public readonly record struct DownloadProgress(string Url, long BytesReceived, long? TotalBytes, int Attempt);
