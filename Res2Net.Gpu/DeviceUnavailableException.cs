namespace Res2Net.Gpu;

/// <summary>The device asked for is not on this machine; the message says what ILGPU found instead.</summary>
public sealed class DeviceUnavailableException(string message) : Exception(message);
